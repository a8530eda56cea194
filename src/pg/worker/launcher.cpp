// The launcher's main loop.  See include/colcrypt/pg/worker/launcher.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
}

#include "colcrypt/pg/state/nonce_counters.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"
#include "colcrypt/pg/worker/database_worker.hpp"
#include "colcrypt/pg/worker/launcher.hpp"
#include "colcrypt/pg/worker/promotion_rotation.hpp"
#include "colcrypt/pg/worker/reencrypt_loop.hpp"

extern "C" {
PGDLLEXPORT void colcrypt_launcher_main(Datum arg);
}

namespace colcrypt::pg {
namespace {

// How long the launcher sleeps with nothing to do (a post wakes it at once),
// and how soon it tries again to start a worker it could not start.
constexpr long kIdleTimeoutMs = 60 * 1000;
constexpr long kRetryTimeoutMs = 1000;
// The postmaster restarts a launcher that exited with an error after this.
constexpr int kLauncherRestartSeconds = 5;

// Workers this launcher registered, by request slot.
struct StartedWorker {
    BackgroundWorkerHandle *handle;  // nullptr: none
    std::uint32_t generation;
};
StartedWorker started[kMaxWorkerRequests];
// Slots whose worker could not be registered, warned about once each.
bool warned[kMaxWorkerRequests];

void clear_launcher_latch(int, Datum) {
    set_launcher_latch(nullptr);
}

// Start a worker for every pending request; returns whether one had to wait
// (no free background worker slot).
bool start_pending_workers() {
    bool waiting = false;
    WorkerRequest request;
    std::uint32_t generation;
    for (int slot = next_pending_request(0, &request, &generation); slot >= 0;
         slot = next_pending_request(slot + 1, &request, &generation)) {
        BackgroundWorkerHandle *handle = start_database_worker(request, slot, generation);
        if (handle == nullptr) {
            waiting = true;
            if (!warned[slot])
                ereport(WARNING, (errmsg("colcrypt: could not start a background worker for database %u", request.database),
                                  errdetail("Every background worker slot is taken; colcrypt tries again every second."),
                                  errhint("Raise max_worker_processes.")));
            warned[slot] = true;
            continue;
        }
        warned[slot] = false;
        // A worker of an earlier request in this slot that freed it and is
        // still exiting: nothing more to learn from its handle.
        if (started[slot].handle != nullptr)
            pfree(started[slot].handle);
        started[slot] = StartedWorker{handle, generation};
        mark_request_starting(slot, generation);
    }
    return waiting;
}

// Forget workers that have stopped; a worker that stopped without taking its
// request (it never started) leaves the request pending for another try.
void reap_stopped_workers() {
    for (int slot = 0; slot < kMaxWorkerRequests; slot++) {
        StartedWorker &w = started[slot];
        if (w.handle == nullptr)
            continue;
        pid_t pid;
        if (GetBackgroundWorkerPid(w.handle, &pid) != BGWH_STOPPED)
            continue;
        request_worker_stopped(slot, w.generation);
        pfree(w.handle);
        w = StartedWorker{};
    }
}

}  // namespace

void register_launcher() {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof(worker));
    // Connected to no database (like the logical replication launcher):
    // shared catalogs only, and visible in pg_stat_activity.
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = kLauncherRestartSeconds;
    strlcpy(worker.bgw_library_name, "colcrypt", sizeof(worker.bgw_library_name));
    strlcpy(worker.bgw_function_name, "colcrypt_launcher_main", sizeof(worker.bgw_function_name));
    strlcpy(worker.bgw_name, "colcrypt launcher", sizeof(worker.bgw_name));
    strlcpy(worker.bgw_type, "colcrypt launcher", sizeof(worker.bgw_type));
    RegisterBackgroundWorker(&worker);
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

extern "C" void colcrypt_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    // A stop request ends the loop below after the counter file is
    // brought up to date, so a shutdown right after a retirement does not
    // bring its counters back.
    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    before_shmem_exit(clear_launcher_latch, (Datum) 0);
    set_launcher_latch(MyLatch);
    recover_starting_requests();
    // Jobs survive restarts and promotions in their tables; a worker per
    // database looks for them (docs/design/reencryption.md, section 5).
    post_reencrypt_checks(true);
    post_promotion_rotations();
    pgstat_report_activity(STATE_IDLE, nullptr);

    for (;;) {
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ShutdownRequestPending) {
            persist_released_counters();
            // Exit status 1: restarted after bgw_restart_time when only the
            // launcher was stopped (pg_terminate_backend), as with die().
            proc_exit(1);
        }
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        persist_released_counters();
        post_reencrypt_checks(false);
        finish_promotion_rotations();
        reap_stopped_workers();
        bool waiting = start_pending_workers();
        // Workers report their start and exit through the latch too
        // (bgw_notify_pid), so the timeout only paces retries.
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                         waiting ? kRetryTimeoutMs : kIdleTimeoutMs, PG_WAIT_EXTENSION);
    }
}
