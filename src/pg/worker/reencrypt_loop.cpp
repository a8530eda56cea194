// The re-encryption loop.  See include/colcrypt/pg/worker/reencrypt_loop.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <algorithm>
#include <cstdint>

#include <sys/resource.h>

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

#include "colcrypt/core/batch_pacing.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"
#include "colcrypt/pg/worker/database_list.hpp"
#include "colcrypt/pg/worker/reencrypt_cleanup.hpp"
#include "colcrypt/pg/worker/reencrypt_loop.hpp"
#include "colcrypt/pg/worker/worker_transaction.hpp"

namespace colcrypt::pg {
namespace {

// After an error or a busy table, the worker waits at least this long.
constexpr long kRetryNapMs = 1000;
constexpr long kErrorNapMs = 10 * 1000;
// A worker waiting for a table's next cleanup attempt looks again at least
// this often (a new job may have been queued meanwhile).
constexpr long kMaxCleanupWaitMs = 10 * 1000;

enum class BatchResult { worked, busy, nothing_left };

// Whether colcrypt 0.2.0 or later is installed here (the job tables exist).
bool extension_has_jobs() {
    bool has = false;
    in_worker_transaction("colcrypt re-encryption: looking for jobs",
                          "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'colcrypt'"
                          "   AND pg_catalog.to_regprocedure('colcrypt._reencrypt_step(bigint, integer)') IS NOT NULL",
                          0, nullptr, nullptr, [&] { has = SPI_processed > 0; });
    return has;
}

BatchResult one_batch() {
    BatchResult result = BatchResult::nothing_left;
    Oid types[] = {INT4OID};
    Datum values[] = {Int32GetDatum(guc_reencrypt_batch_size)};
    in_worker_transaction("colcrypt re-encryption batch",
                          "SELECT state, last_error IS NOT NULL FROM colcrypt._reencrypt_step(NULL, $1)", 1, types,
                          values, [&] {
                              if (SPI_processed == 0)
                                  return;
                              bool isnull;
                              bool error = DatumGetBool(
                                  SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
                              result = error ? BatchResult::busy : BatchResult::worked;
                          });
    return result;
}

// CPU time this process has used (user and system), in microseconds.
std::int64_t process_cpu_us() {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return (std::int64_t) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000 + usage.ru_utime.tv_usec +
           usage.ru_stime.tv_usec;
}

void nap(long ms) {
    if (ms <= 0)
        return;
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

// Databases the launcher still has to ask about (TopMemoryContext).
List *unchecked_databases = NIL;

}  // namespace

bool reencrypt_work_left() {
    if (!extension_has_jobs())
        return false;
    bool left = false;
    in_worker_transaction("colcrypt re-encryption: looking for jobs",
                          "SELECT 1 FROM colcrypt.reencrypt_tasks WHERE state IN ('queued', 'running') LIMIT 1", 0,
                          nullptr, nullptr, [&] { left = SPI_processed > 0; });
    return left;
}

void run_reencrypt_loop() {
    if (RecoveryInProgress() || !extension_has_jobs())
        return;
    ereport(DEBUG1, (errmsg("colcrypt: re-encryption worker started")));
    MemoryContext loop_context =
        AllocSetContextCreate(TopMemoryContext, "colcrypt re-encryption loop", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        // Never on a standby; off means jobs wait for the setting to change.
        if (!guc_reencrypt_worker || RecoveryInProgress())
            break;
        MemoryContext outer = MemoryContextSwitchTo(loop_context);
        volatile BatchResult result = BatchResult::worked;
        volatile CleanupResult cleanup = CleanupResult::nothing;
        volatile long wait_ms = 0;
        volatile bool failed = false;
        volatile std::int64_t cpu_before = process_cpu_us();
        volatile TimestampTz wall_before = GetCurrentTimestamp();
        PG_TRY();
        {
            result = one_batch();
            // No batch left: the finished tables' cleanup, then the end.
            if (result == BatchResult::nothing_left && guc_reencrypt_vacuum) {
                long wait = 0;
                cleanup = clean_up_next_task(&wait);
                wait_ms = wait;
            }
        }
        PG_CATCH();
        {
            // An error outside the batch's own guard (the job tables, a
            // dropped extension): report it, and try again after a while.
            MemoryContextSwitchTo(loop_context);
            EmitErrorReport();
            FlushErrorState();
            AbortCurrentTransaction();
            failed = true;
        }
        PG_END_TRY();
        MemoryContextSwitchTo(outer);
        MemoryContextReset(loop_context);
        if (failed) {
            nap(kErrorNapMs);
            if (!extension_has_jobs())
                break;
            continue;
        }
        if (result == BatchResult::nothing_left) {
            if (cleanup == CleanupResult::nothing)
                break;
            if (cleanup == CleanupResult::waiting)
                nap(std::min<long>(std::max<long>((long) wait_ms, kRetryNapMs), kMaxCleanupWaitMs));
            continue;
        }
        if (result == BatchResult::busy) {
            nap(std::max<long>(guc_reencrypt_naptime, kRetryNapMs));
            continue;
        }
        // The throttle: the batch's own CPU time within the configured share.
        const std::int64_t pause_us = core::pause_after_batch_us(
            process_cpu_us() - cpu_before, (std::int64_t) (GetCurrentTimestamp() - wall_before),
            guc_reencrypt_cpu_percent, (std::int64_t) guc_reencrypt_naptime * 1000);
        nap((long) ((pause_us + 999) / 1000));
    }
    ereport(DEBUG1, (errmsg("colcrypt: re-encryption worker has no more work")));
}

void post_reencrypt_checks(bool first) {
    if (first)
        unchecked_databases = connectable_databases();
    while (unchecked_databases != NIL) {
        WorkerRequest request{};
        request.task = WorkerTask::reencrypt;
        request.database = linitial_oid(unchecked_databases);
        if (post_worker_request(request) == PostResult::table_full)
            return;
        unchecked_databases = list_delete_first(unchecked_databases);
    }
}

}  // namespace colcrypt::pg
