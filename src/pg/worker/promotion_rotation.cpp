// Rotating every keyring after a promotion.  See
// include/colcrypt/pg/worker/promotion_rotation.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgstat.h"
#include "utils/snapmgr.h"
}

#include "colcrypt/pg/admin/keyring_verbs.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/state/timeline_record.hpp"
#include "colcrypt/pg/worker/database_list.hpp"
#include "colcrypt/pg/worker/promotion_rotation.hpp"

namespace colcrypt::pg {
namespace {

// The timeline whose rotations are under way (0: none), and the databases
// whose request did not fit in the table yet.
std::uint32_t pending_timeline = 0;
List *unposted = NIL;

void post_unposted() {
    while (unposted != NIL) {
        WorkerRequest request{};
        request.task = WorkerTask::rotate_after_promotion;
        request.database = linitial_oid(unposted);
        request.version = pending_timeline;
        if (post_worker_request(request) == PostResult::table_full)
            return;
        unposted = list_delete_first(unposted);
    }
}

}  // namespace

void post_promotion_rotations() {
    std::uint32_t now = (std::uint32_t) GetWALInsertionTimeLine();
    std::uint32_t recorded;
    if (!read_recorded_timeline(&recorded) || recorded > now) {
        record_timeline(now);
        return;
    }
    if (recorded == now)
        return;
    ereport(LOG, (errmsg("colcrypt: timeline %u follows timeline %u: rotating every keyring", now, recorded),
                  errdetail("After a promotion or a point-in-time recovery this server's nonce counters are those of "
                            "its base backup, lower than what was encrypted since under the same key versions.")));
    pending_timeline = now;
    unposted = connectable_databases();
    post_unposted();
}

void finish_promotion_rotations() {
    if (pending_timeline == 0)
        return;
    post_unposted();
    if (unposted != NIL || task_in_table(WorkerTask::rotate_after_promotion))
        return;
    record_timeline(pending_timeline);
    ereport(LOG, (errmsg("colcrypt: keyrings rotated after the change to timeline %u", pending_timeline)));
    pending_timeline = 0;
}

void rotate_keyrings_after_promotion(const WorkerRequest &request) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "colcrypt key rotation after a promotion");
    int rotated = 0;
    if (extension_version_at_least(0, 1)) {
        int count;
        catalog::ActiveDataKey *keys = catalog::active_data_keys(&count);
        KeyEventActor actor = current_actor();
        char *detail = psprintf("after the change to timeline %u (a promotion or a point-in-time recovery): this "
                                "server's nonce counters were those of its base backup",
                                request.version);
        for (int i = 0; i < count; i++)
            if (rotate_data_key(nullptr, keys[i].keyring_id, keys[i].version, actor, KeyEvent::auto_rotate, detail) != 0)
                rotated++;
    }
    // The database's name is read in the transaction (a catalog lookup).
    if (rotated > 0)
        ereport(LOG, (errmsg("colcrypt: rotated %d keyrings of database \"%s\" after the change to timeline %u", rotated,
                             get_database_name(MyDatabaseId), request.version)));
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);
}

}  // namespace colcrypt::pg
