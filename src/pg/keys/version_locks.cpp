// Locks on data-key versions.  See include/colcrypt/pg/keys/version_locks.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/inval.h"
}

#include "colcrypt/pg/keys/version_locks.hpp"

namespace colcrypt::pg {
namespace {

constexpr uint16 kLockTagField4 = 0x43c1;  // colcrypt's, apart from pg_advisory_lock's 1 and 2

LOCKTAG version_tag(std::uint32_t keyring_id, std::uint32_t version) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, keyring_id, version, kLockTagField4);
    return tag;
}

// The versions this (sub)transaction holds the lock of, so that a seal
// costs no lock-table lookup after the first.  A subtransaction that aborts
// releases its locks, so the memo is only trusted within the subtransaction
// that filled it; in another one the lock is taken again, which is cheap
// when already held.
struct Held {
    std::uint32_t keyring_id;
    std::uint32_t version;
};
constexpr int kHeld = 8;
Held held[kHeld];
int held_count = 0;
LocalTransactionId held_lxid = InvalidLocalTransactionId;
SubTransactionId held_subxid = InvalidSubTransactionId;

}  // namespace

bool lock_version_for_writing(std::uint32_t keyring_id, std::uint32_t version) {
    SubTransactionId subxid = GetCurrentSubTransactionId();
    if (MyProc->lxid != held_lxid || subxid != held_subxid) {
        held_count = 0;
        held_lxid = MyProc->lxid;
        held_subxid = subxid;
    }
    for (int i = 0; i < held_count; i++)
        if (held[i].keyring_id == keyring_id && held[i].version == version)
            return false;
    LOCKTAG tag = version_tag(keyring_id, version);
    LockAcquireResult result = LockAcquire(&tag, ShareLock, false, false);
    if (held_count < kHeld)
        held[held_count++] = Held{keyring_id, version};
    if (result == LOCKACQUIRE_ALREADY_HELD || result == LOCKACQUIRE_ALREADY_CLEAR)
        return false;
    // Whatever committed while we waited (a retirement, a rotation) is seen
    // by the caller's next key lookup.
    AcceptInvalidationMessages();
    return true;
}

void lock_version_for_retirement(std::uint32_t keyring_id, std::uint32_t version) {
    LOCKTAG tag = version_tag(keyring_id, version);
    (void) LockAcquire(&tag, ExclusiveLock, false, false);
}

}  // namespace colcrypt::pg
