// The cleanup's rebuild lock.  See include/colcrypt/pg/state/index_rebuild_lock.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lock.h"
}

#include "colcrypt/pg/state/index_rebuild_lock.hpp"

namespace colcrypt::pg {
namespace {

constexpr uint16 kLockTagField4 = 0x43c2;  // beside the version locks' 0x43c1

LOCKTAG rebuild_tag(Oid relation) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, relation, 0, kLockTagField4);
    return tag;
}

Oid held_relation = InvalidOid;  // the worker holds at most one at a time

}  // namespace

void hold_index_rebuild_lock(Oid relation) {
    release_index_rebuild_lock();
    LOCKTAG tag = rebuild_tag(relation);
    (void) LockAcquire(&tag, ExclusiveLock, true, false);
    held_relation = relation;
}

void release_index_rebuild_lock() {
    if (!OidIsValid(held_relation))
        return;
    LOCKTAG tag = rebuild_tag(held_relation);
    held_relation = InvalidOid;
    (void) LockRelease(&tag, ExclusiveLock, true);
}

bool lock_out_index_rebuilds(Oid relation) {
    LOCKTAG tag = rebuild_tag(relation);
    return LockAcquire(&tag, ShareLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

}  // namespace colcrypt::pg
