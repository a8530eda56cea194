// A step of a background worker in a transaction of its own: the worker
// has no client and no transaction between its steps, so each step starts
// one with a snapshot, does its work (an SQL statement through SPI, or a
// utility statement called directly) and commits.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace colcrypt::pg {

// Run fn in a transaction with an active snapshot; the caller's memory
// context is current during fn (a transaction's context would be gone
// before the caller reads what fn made) and again afterwards.  fn may end
// the transaction and start another (VACUUM, REINDEX CONCURRENTLY do, as
// for a client's top-level statement), so the snapshot is popped only if
// one is still set.
template <typename Fn>
void in_worker_transaction(const char *activity, Fn fn) {
    MemoryContext caller = CurrentMemoryContext;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    MemoryContextSwitchTo(caller);
    pgstat_report_activity(STATE_RUNNING, activity);
    fn();
    if (ActiveSnapshotSet())
        PopActiveSnapshot();
    CommitTransactionCommand();
    MemoryContextSwitchTo(caller);
    pgstat_report_activity(STATE_IDLE, nullptr);
}

// Run sql (a SELECT, or a data-modifying WITH that ends in one) the same
// way; fn reads SPI_tuptable before the commit.
template <typename Fn>
void in_worker_transaction(const char *activity, const char *sql, int nargs, Oid *types, Datum *values, Fn fn) {
    in_worker_transaction(activity, [&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        if (SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 0) != SPI_OK_SELECT)
            elog(ERROR, "colcrypt: re-encryption query failed");
        fn();
        SPI_finish();
    });
}

}  // namespace colcrypt::pg
