// The timeline record.  See include/colcrypt/pg/state/timeline_record.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "storage/fd.h"
}

#include "colcrypt/pg/keys/master_key_provider.hpp"
#include "colcrypt/pg/state/timeline_record.hpp"

namespace colcrypt::pg {

namespace {

char *record_path() {
    return psprintf("%s/timeline", kColcryptDirectory);
}

}  // namespace

bool read_recorded_timeline(std::uint32_t *timeline) {
    int fd = OpenTransientFile(record_path(), O_RDONLY | PG_BINARY);
    if (fd < 0)
        return false;
    char text[16] = {0};
    ssize_t n = read(fd, text, sizeof(text) - 1);
    CloseTransientFile(fd);
    if (n <= 0)
        return false;
    char *end;
    unsigned long value = std::strtoul(text, &end, 10);
    if (end == text || (*end != '\n' && *end != '\0') || value == 0 || value > UINT32_MAX)
        return false;
    *timeline = (std::uint32_t) value;
    return true;
}

void record_timeline(std::uint32_t timeline) {
    struct stat st;
    if (stat(kColcryptDirectory, &st) != 0 && MakePGDirectory(kColcryptDirectory) != 0 && errno != EEXIST)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", kColcryptDirectory)));
    char *path = record_path();
    char *temp = psprintf("%s.tmp", path);
    char *line = psprintf("%u\n", timeline);
    int fd = OpenTransientFile(temp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
    if (fd < 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not create file \"%s\": %m", temp)));
    bool ok = write(fd, line, strlen(line)) == (ssize_t) strlen(line) && pg_fsync(fd) == 0;
    int save_errno = errno;
    CloseTransientFile(fd);
    if (!ok) {
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not write file \"%s\": %m", temp)));
    }
    (void) durable_rename(temp, path, ERROR);
}

}  // namespace colcrypt::pg
