// One SQL statement in a transaction of a background worker's own: the
// worker has no client and no transaction between its steps, so each step
// starts one, runs its statement through SPI with a snapshot, lets the
// caller read the result, and commits; the caller's memory context is
// current again afterwards.
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

// Run sql (a SELECT, or a data-modifying WITH that ends in one); fn reads
// SPI_tuptable before the commit.  activity is shown in pg_stat_activity.
template <typename Fn>
void in_worker_transaction(const char *activity, const char *sql, int nargs, Oid *types, Datum *values, Fn fn) {
    MemoryContext caller = CurrentMemoryContext;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
    if (SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "colcrypt: re-encryption query failed");
    fn();
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    MemoryContextSwitchTo(caller);
    pgstat_report_activity(STATE_IDLE, nullptr);
}

}  // namespace colcrypt::pg
