// Reading and writing the nonce counter file.  See
// include/colcrypt/pg/state/counter_file.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern "C" {
#include "port/pg_crc32c.h"
#include "storage/fd.h"
}

#include "colcrypt/pg/keys/data_directory_files.hpp"
#include "colcrypt/pg/state/counter_file.hpp"

namespace colcrypt::pg {
namespace {

constexpr const char *kDirectory = kColcryptDirectory;
constexpr const char *kFile = "pg_colcrypt/nonce_counters";
constexpr const char *kTempFile = "pg_colcrypt/nonce_counters.tmp";
constexpr std::uint32_t kFileMagic = 0x434e4343;  // "CCNC"
constexpr std::uint32_t kFileFormat = 1;

struct FileHeader {
    std::uint32_t magic;
    std::uint32_t format;
    std::uint32_t entries;
    std::uint32_t unused;
};

struct FileEntry {
    std::uint32_t database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint32_t unused;
    std::uint64_t reserved;
};
static_assert(sizeof(FileHeader) == 16 && sizeof(FileEntry) == 24, "the counter file layout is fixed");

std::size_t file_size(int entries) {
    return sizeof(FileHeader) + entries * sizeof(FileEntry) + sizeof(pg_crc32c);
}

pg_crc32c checksum(const char *data, std::size_t size) {
    pg_crc32c crc;
    INIT_CRC32C(crc);
    COMP_CRC32C(crc, data, size);
    FIN_CRC32C(crc);
    return crc;
}

[[noreturn]] void report_bad_file(const char *problem) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("colcrypt nonce counter file \"%s\" is invalid", kFile),
                    errdetail("%s", problem),
                    errhint("Restore the file from a backup.  Deleting it resets every count to zero: then rotate "
                            "every keyring with colcrypt.rotate_key() so that no data key can exceed its budget.")));
    pg_unreachable();
}

}  // namespace

CounterFileEntry *read_counter_file(int max_entries, int *count) {
    *count = 0;
    struct stat st;
    if (stat(kDirectory, &st) != 0) {
        (void) ensure_colcrypt_directory(ERROR);
        return nullptr;
    }
    (void) unlink(kTempFile);
    int fd = OpenTransientFile(kFile, O_RDONLY | PG_BINARY);
    if (fd < 0) {
        if (errno == ENOENT)
            return nullptr;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", kFile)));
    }
    // Read one entry more than fits, to tell a file with too many apart.
    std::size_t max_size = file_size(max_entries + 1);
    char *buffer = (char *) palloc(max_size + 1);
    ssize_t size = read(fd, buffer, max_size + 1);
    int save_errno = errno;
    CloseTransientFile(fd);
    if (size < 0) {
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", kFile)));
    }
    FileHeader header;
    if ((std::size_t) size < file_size(0))
        report_bad_file("The file is truncated.");
    std::memcpy(&header, buffer, sizeof(header));
    if (header.magic != kFileMagic || header.format != kFileFormat)
        report_bad_file("The file does not start with a known colcrypt header.");
    if (header.entries > (std::uint32_t) max_entries)
        ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                        errmsg("colcrypt nonce counter file \"%s\" has %u counters, more than "
                               "colcrypt.max_key_versions (%d)",
                               kFile, header.entries, max_entries),
                        errhint("Raise colcrypt.max_key_versions to at least %u.", header.entries)));
    if ((std::size_t) size != file_size((int) header.entries))
        report_bad_file("The file size does not match its number of entries.");
    std::size_t body = (std::size_t) size - sizeof(pg_crc32c);
    pg_crc32c expected;
    std::memcpy(&expected, buffer + body, sizeof(expected));
    if (!EQ_CRC32C(expected, checksum(buffer, body)))
        report_bad_file("The checksum does not match.");

    auto *entries = (CounterFileEntry *) palloc(sizeof(CounterFileEntry) * (header.entries + 1));
    for (std::uint32_t i = 0; i < header.entries; i++) {
        FileEntry entry;
        std::memcpy(&entry, buffer + sizeof(header) + i * sizeof(FileEntry), sizeof(entry));
        entries[i] = CounterFileEntry{entry.database, entry.keyring_id, entry.version, entry.reserved};
    }
    pfree(buffer);
    *count = (int) header.entries;
    return entries;
}

void write_counter_file(const CounterFileEntry *entries, int count) {
    std::size_t size = file_size(count);
    char *buffer = (char *) palloc(size);
    FileHeader header{kFileMagic, kFileFormat, (std::uint32_t) count, 0};
    std::memcpy(buffer, &header, sizeof(header));
    for (int i = 0; i < count; i++) {
        FileEntry entry{entries[i].database, entries[i].keyring_id, entries[i].version, 0, entries[i].reserved};
        std::memcpy(buffer + sizeof(header) + i * sizeof(FileEntry), &entry, sizeof(entry));
    }
    std::size_t body = size - sizeof(pg_crc32c);
    pg_crc32c crc = checksum(buffer, body);
    std::memcpy(buffer + body, &crc, sizeof(crc));

    (void) replace_file_durably(kFile, buffer, size, ERROR);
    pfree(buffer);
}

}  // namespace colcrypt::pg
