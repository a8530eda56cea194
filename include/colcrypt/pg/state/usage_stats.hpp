// Usage statistics per keyring, for colcrypt.stats: encryptions,
// decryptions and decryptions that failed authentication, per (database,
// keyring), since the slot's last reset.
//
// Cheap enough to count every value: a backend counts its current keyring
// locally and adds to shared memory at the end of each transaction (other
// sessions see a transaction's counts once it has ended), the slot found
// through a per-backend cache; failures are added at once.  Counts are not durable (a
// restart starts them at zero, like pg_stat_statements' after a crash);
// the durable count of encryptions is the nonce counter's
// (state/nonce_counters.hpp).  The table has colcrypt.max_key_versions
// slots; when it is full, further keyrings are not counted and
// colcrypt.health() says so.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/lwlock.h"
}

namespace colcrypt::pg {

std::size_t usage_stats_shmem_size();
void usage_stats_shmem_init(void *memory, bool found, LWLock *lock);

enum class UsageEvent { encryption = 0, decryption = 1, failure = 2 };

// Count one event for a keyring of the current database (not transit).
void count_usage(std::uint32_t keyring_id, UsageEvent event);

struct UsageRow {
    std::uint32_t keyring_id;
    std::uint64_t encryptions;
    std::uint64_t decryptions;
    std::uint64_t failures;
    TimestampTz since;
};

// The current database's rows, palloc'd; *count of them.
UsageRow *usage_rows(int *count);

// Zero the current database's counts; their "since" becomes now.
void reset_usage();

// Whether a keyring could not be counted because the table was full.
bool usage_table_overflowed();

}  // namespace colcrypt::pg
