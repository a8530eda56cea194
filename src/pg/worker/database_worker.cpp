// A dynamic worker doing one request in its database.  See
// include/colcrypt/pg/worker/database_worker.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
}

#include "colcrypt/pg/admin/keyring_verbs.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/state/reencrypt_wakeup.hpp"
#include "colcrypt/pg/worker/database_worker.hpp"
#include "colcrypt/pg/worker/promotion_rotation.hpp"
#include "colcrypt/pg/worker/reencrypt_loop.hpp"

extern "C" {
PGDLLEXPORT void colcrypt_database_worker_main(Datum arg);
}

namespace colcrypt::pg {
namespace {

// What the launcher passes in bgw_extra: the request's slot and generation.
struct WorkerArgument {
    int slot;
    std::uint32_t generation;
};
static_assert(sizeof(WorkerArgument) <= BGW_EXTRALEN, "the worker argument must fit in bgw_extra");

WorkerArgument argument;

void finish_at_exit(int, Datum) {
    finish_request(argument.slot, argument.generation);
}

// The automatic rotation, through the same code as colcrypt.rotate_key(),
// in its own transaction.  Nothing is done if the version that reached its
// budget is no longer the active one.
void rotate_keyring(const WorkerRequest &request) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "colcrypt automatic key rotation");
    KeyEventActor actor = current_actor();
    char *detail = psprintf("nonce budget reached: version %u had encrypted " UINT64_FORMAT
                            " values (colcrypt.nonce_budget = %d)",
                            request.version, request.count, guc_nonce_budget);
    std::int32_t version = rotate_data_key(nullptr, (std::int32_t) request.keyring_id, (std::int32_t) request.version,
                                           actor, KeyEvent::auto_rotate, detail);
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (version == 0)
        ereport(LOG, (errmsg("colcrypt: key version %u of keyring %u is no longer active; no automatic rotation needed",
                             request.version, request.keyring_id)));
}

// Re-encryption batches until nothing is left.  The request is freed
// before a last look for work, so that a job queued while this worker was
// finishing (whose post found the request still here) gets a worker.
void reencrypt(const WorkerRequest &request) {
    // A batch's commit does not wait for its WAL to reach the disk: the
    // foreground's commits are what the worker must not slow down, and a
    // flush per batch competes with theirs for the WAL.  A crash can lose
    // the last batches; their rows keep their old envelopes, still
    // readable, and the job does them again (its progress is in the same
    // transactions).  Whatever depends on a batch is durable only with it:
    // any later commit that flushes the WAL (retire_key's, a user's update
    // of the row) flushes the batch's first.
    SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
    run_reencrypt_loop();
    finish_request(argument.slot, argument.generation);
    if (guc_reencrypt_worker && reencrypt_work_left())
        request_reencrypt_worker(request.database);
}

}  // namespace

BackgroundWorkerHandle *start_database_worker(const WorkerRequest &request, int slot, std::uint32_t generation) {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "colcrypt", sizeof(worker.bgw_library_name));
    strlcpy(worker.bgw_function_name, "colcrypt_database_worker_main", sizeof(worker.bgw_function_name));
    switch (request.task) {
    case WorkerTask::rotate_keyring:
        snprintf(worker.bgw_name, sizeof(worker.bgw_name), "colcrypt key rotation of keyring %u",
                 request.keyring_id);
        strlcpy(worker.bgw_type, "colcrypt key rotation", sizeof(worker.bgw_type));
        break;
    case WorkerTask::reencrypt:
        snprintf(worker.bgw_name, sizeof(worker.bgw_name), "colcrypt re-encryption in database %u",
                 request.database);
        strlcpy(worker.bgw_type, "colcrypt re-encryption", sizeof(worker.bgw_type));
        break;
    case WorkerTask::rotate_after_promotion:
        snprintf(worker.bgw_name, sizeof(worker.bgw_name), "colcrypt key rotation after promotion in database %u",
                 request.database);
        strlcpy(worker.bgw_type, "colcrypt key rotation", sizeof(worker.bgw_type));
        break;
    }
    worker.bgw_notify_pid = MyProcPid;
    WorkerArgument arg{slot, generation};
    std::memcpy(worker.bgw_extra, &arg, sizeof(arg));
    BackgroundWorkerHandle *handle;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle))
        return nullptr;
    return handle;
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

extern "C" void colcrypt_database_worker_main(Datum) {
    std::memcpy(&argument, MyBgworkerEntry->bgw_extra, sizeof(argument));
    pqsignal(SIGTERM, die);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();
    WorkerRequest request;
    if (!claim_request(argument.slot, argument.generation, &request))
        proc_exit(0);
    // Registered before connecting, so that even a failure to connect (a
    // dropped database) frees the request.
    before_shmem_exit(finish_at_exit, (Datum) 0);
    BackgroundWorkerInitializeConnectionByOid(request.database, InvalidOid, 0);
    switch (request.task) {
    case WorkerTask::rotate_keyring:
        rotate_keyring(request);
        break;
    case WorkerTask::reencrypt:
        reencrypt(request);
        break;
    case WorkerTask::rotate_after_promotion:
        rotate_keyrings_after_promotion(request);
        break;
    }
    proc_exit(0);
}
