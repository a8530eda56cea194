// colcrypt's files in the data directory, all in pg_colcrypt/: the nonce
// counters (state/counter_file.hpp), the timeline they were last right on
// (state/timeline_record.hpp) and the fingerprint of the master key in use
// (keys/master_key_provider.hpp).  Base backups copy them.
#pragma once

#include <cstddef>

namespace colcrypt::pg {

constexpr const char *kColcryptDirectory = "pg_colcrypt";

// Create pg_colcrypt/ when it does not exist.  Reports at elevel and
// returns false when it cannot.
bool ensure_colcrypt_directory(int elevel);

// Replace the file at path with size bytes, durably: written to path.tmp,
// fsynced, renamed over path (durable_rename), so a crash leaves the old
// file or the new one, never a part.  Reports at elevel (the file's name,
// never its contents) and returns false on failure.
bool replace_file_durably(const char *path, const char *bytes, std::size_t size, int elevel);

}  // namespace colcrypt::pg
