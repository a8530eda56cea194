// Re-encryption requests posted at commit.  See
// include/colcrypt/pg/state/reencrypt_wakeup.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
}

#include "colcrypt/pg/state/reencrypt_wakeup.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_wake_reencrypt_worker);
}

namespace colcrypt::pg {
namespace {

bool post_at_commit = false;
bool callback_registered = false;

void at_xact_end(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && post_at_commit)
        request_reencrypt_worker(MyDatabaseId);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE)
        post_at_commit = false;
}

}  // namespace

void request_reencrypt_worker(Oid database) {
    WorkerRequest request{};
    request.task = WorkerTask::reencrypt;
    request.database = database;
    switch (post_worker_request(request)) {
    case PostResult::table_full:
        ereport(WARNING, (errmsg("colcrypt: could not ask for a re-encryption worker"),
                          errdetail("The table of background work requests is full."),
                          errhint("The job waits for the next request, or run CALL colcrypt.reencrypt_now(...).")));
        break;
    case PostResult::posted:
    case PostResult::already_there:
    case PostResult::no_shared_memory:
        break;
    }
}

void request_reencrypt_worker_at_commit() {
    if (!callback_registered) {
        RegisterXactCallback(at_xact_end, nullptr);
        callback_registered = true;
    }
    post_at_commit = true;
}

}  // namespace colcrypt::pg

// colcrypt._wake_reencrypt_worker(): a worker for this database's jobs,
// asked for when the transaction commits.
extern "C" Datum colcrypt_wake_reencrypt_worker(PG_FUNCTION_ARGS) {
    colcrypt::pg::request_reencrypt_worker_at_commit();
    PG_RETURN_VOID();
}
