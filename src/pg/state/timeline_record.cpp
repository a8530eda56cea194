// The timeline record.  See include/colcrypt/pg/state/timeline_record.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "storage/fd.h"
}

#include "colcrypt/pg/keys/data_directory_files.hpp"
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
    (void) ensure_colcrypt_directory(ERROR);
    char *line = psprintf("%u\n", timeline);
    (void) replace_file_durably(record_path(), line, strlen(line), ERROR);
}

}  // namespace colcrypt::pg
