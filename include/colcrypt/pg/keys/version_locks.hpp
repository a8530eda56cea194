// The lock that keeps a data-key version from being retired while anyone
// may still write under it (docs/design/retirement.md).
//
// A backend about to seal its first value under (keyring, version) in a
// transaction takes the version's lock in share mode, held to the end of
// the transaction; colcrypt.retire_key takes it in exclusive mode, so it
// waits for every transaction that wrote under the version and keeps new
// writers out until it commits.  The lock is a heavyweight lock on an
// advisory-type tag (database, keyring id, version, 0x43c1), shown in
// pg_locks with locktype 'advisory' and objsubid 17345.
#pragma once

#include <cstdint>

namespace colcrypt::pg {

// Take the version's write lock for this transaction.  True when this call
// acquired it (it may have waited, and invalidations may have arrived: the
// caller should look its sealing key up again); false when the transaction
// held it already.
bool lock_version_for_writing(std::uint32_t keyring_id, std::uint32_t version);

// Take the version's lock exclusively, waiting for its writers (retire_key).
void lock_version_for_retirement(std::uint32_t keyring_id, std::uint32_t version);

}  // namespace colcrypt::pg
