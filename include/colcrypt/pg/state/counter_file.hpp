// The nonce counter file, $PGDATA/pg_colcrypt/nonce_counters: how many
// encryptions each data-key version may have made, made durable before they
// are made (state/nonce_counters.hpp).
//
// Format 1, forever readable (test/fixtures/v1/nonce_counters is one):
//   header   magic "CCNC" (0x434e4343), format 1, entry count, 4 unused bytes
//   entries  database OID, keyring id, version, 4 unused bytes, reserved
//            count (8 bytes); all in the server's byte order
//   CRC-32C  of everything before it
// Written to a temporary file, fsync'd and renamed into place, so a crash
// leaves the old file or the new one, never a torn one.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

struct CounterFileEntry {
    Oid database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint64_t reserved;
};

// The file's entries (palloc'd, at most max_entries; *count of them).  No
// file yet: none.  Creates the directory when missing.  ERROR, naming the
// defect, for a damaged file.  Called in the postmaster at startup.
CounterFileEntry *read_counter_file(int max_entries, int *count);

// Replace the file with these entries, durably.  ERROR when it cannot be
// written (the encryption that needed it is then refused).
void write_counter_file(const CounterFileEntry *entries, int count);

}  // namespace colcrypt::pg
