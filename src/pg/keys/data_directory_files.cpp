// colcrypt's files in the data directory.  See
// include/colcrypt/pg/keys/data_directory_files.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

extern "C" {
#include "storage/fd.h"
}

#include "colcrypt/pg/keys/data_directory_files.hpp"

namespace colcrypt::pg {

bool ensure_colcrypt_directory(int elevel) {
    struct stat st;
    if (stat(kColcryptDirectory, &st) == 0 || (errno == ENOENT && (MakePGDirectory(kColcryptDirectory) == 0 || errno == EEXIST)))
        return true;
    ereport(elevel, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", kColcryptDirectory)));
    return false;
}

bool replace_file_durably(const char *path, const char *bytes, std::size_t size, int elevel) {
    char *temp = psprintf("%s.tmp", path);
    int fd = OpenTransientFile(temp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
    if (fd < 0) {
        ereport(elevel, (errcode_for_file_access(), errmsg("could not create file \"%s\": %m", temp)));
        return false;
    }
    errno = 0;
    const char *failed = nullptr;
    if (write(fd, bytes, size) != (ssize_t) size) {
        if (errno == 0)
            errno = ENOSPC;
        failed = "write";
    } else if (pg_fsync(fd) != 0) {
        failed = "fsync";
    }
    int save_errno = errno;
    if (CloseTransientFile(fd) != 0 && failed == nullptr) {
        save_errno = errno;
        failed = "close";
    }
    if (failed != nullptr) {
        errno = save_errno;
        ereport(elevel, (errcode_for_file_access(), errmsg("could not %s file \"%s\": %m", failed, temp)));
        return false;
    }
    return durable_rename(temp, path, elevel) == 0;
}

}  // namespace colcrypt::pg
