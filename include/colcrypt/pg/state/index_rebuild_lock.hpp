// The lock between the re-encryption cleanup's REINDEX INDEX CONCURRENTLY
// and upgrade_index_order's rebuild of the same table's indexes.
//
// A concurrent rebuild holds the table's ShareUpdateExclusiveLock while it
// waits for every older transaction to end; a cut-over that then asks for
// the table's ShareLock waits for the rebuild, which waits for the
// cut-over: a deadlock that PostgreSQL resolves by failing the DBA's
// command.  So the worker holds this lock (exclusive, for its session)
// around each concurrent rebuild, and a cut-over takes it in share mode
// without waiting before it locks a table: when the worker holds it, the
// cut-over is refused with a clear error instead; when the cut-over holds
// it, the worker waits for the cut-over to commit before it starts.  A
// heavyweight lock on an advisory-type tag (database, table OID, 0,
// 0x43c2), shown in pg_locks with locktype 'advisory' and objsubid 17346.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// The worker: hold the lock of relation for the session, waiting for any
// cut-over on it to commit; release it, also after an error (the lock
// survives transaction abort).
void hold_index_rebuild_lock(Oid relation);
void release_index_rebuild_lock();

// A cut-over: take the lock in share mode until the transaction ends.
// False, without waiting, when the worker is rebuilding one of the table's
// indexes now.
bool lock_out_index_rebuilds(Oid relation);

}  // namespace colcrypt::pg
