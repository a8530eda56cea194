// The cleanup after a finished re-encryption task.  See
// include/colcrypt/pg/worker/reencrypt_cleanup.hpp and
// docs/design/reencryption.md, section 4.
#include "colcrypt/pg/compat/postgres.hpp"

#include <algorithm>

extern "C" {
#include "access/xact.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/state/index_rebuild_lock.hpp"
#include "colcrypt/pg/worker/reencrypt_cleanup.hpp"
#include "colcrypt/pg/worker/worker_transaction.hpp"

namespace colcrypt::pg {
namespace {

// Attempts per task, and the pause after the n-th failed one (n minutes).
constexpr int kMaxAttempts = 5;
constexpr long kRetryStepMs = 60 * 1000;

// The task being cleaned up, and every old version its counts found
// (pairs of keyring id and version, in the cleanup's memory context).
struct Claimed {
    int64 job;
    Oid relation;
    List *keyrings;
    List *versions;
};

// Take the next due task and count the attempt; false when none is due.
// The versions are kept in memory context keep (SPI's goes with the commit).
bool claim_task(Claimed *claimed, MemoryContext keep) {
    bool found = false;
    Oid types[] = {INT4OID};
    Datum values[] = {Int32GetDatum(kMaxAttempts)};
    in_worker_transaction(
        "colcrypt re-encryption: cleanup",
        "WITH due AS (SELECT job, relation FROM colcrypt.reencrypt_tasks"
        "              WHERE state = 'waiting for vacuum' AND cleanup_attempts < $1"
        "                AND coalesce(cleanup_after, '-infinity') <= pg_catalog.now()"
        "              ORDER BY finished_at, job, relation LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " claimed AS (UPDATE colcrypt.reencrypt_tasks t"
        "                SET cleanup_attempts = t.cleanup_attempts + 1, updated_at = pg_catalog.clock_timestamp()"
        "               FROM due WHERE t.job = due.job AND t.relation = due.relation"
        "             RETURNING t.job, t.relation)"
        " SELECT c.job, c.relation, v.keyring_id, v.version FROM claimed c"
        "   LEFT JOIN LATERAL (SELECT DISTINCT col.keyring_id, u.version"
        "                        FROM colcrypt.reencrypt_columns col, pg_catalog.unnest(col.from_versions) u(version)"
        "                       WHERE col.job = c.job AND col.relation = c.relation AND col.failed IS NULL"
        "                         AND u.version IS DISTINCT FROM col.to_version) v ON true",
        1, types, values, [&] {
            for (uint64 i = 0; i < SPI_processed; i++) {
                HeapTuple row = SPI_tuptable->vals[i];
                TupleDesc desc = SPI_tuptable->tupdesc;
                bool isnull;
                claimed->job = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
                claimed->relation = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
                found = true;
                Datum keyring = SPI_getbinval(row, desc, 3, &isnull);
                if (isnull)
                    continue;
                Datum version = SPI_getbinval(row, desc, 4, &isnull);
                MemoryContext spi = MemoryContextSwitchTo(keep);
                claimed->keyrings = lappend_int(claimed->keyrings, DatumGetInt32(keyring));
                claimed->versions = lappend_int(claimed->versions, DatumGetInt32(version));
                MemoryContextSwitchTo(spi);
            }
        });
    return found;
}

// Milliseconds until the first waiting task's next attempt; -1 when none waits.
long next_attempt_in() {
    long wait = -1;
    Oid types[] = {INT4OID};
    Datum values[] = {Int32GetDatum(kMaxAttempts)};
    in_worker_transaction(
        "colcrypt re-encryption: cleanup",
        "SELECT pg_catalog.ceil(extract(epoch FROM min(coalesce(cleanup_after, pg_catalog.now())) - pg_catalog.now())"
        "       * 1000)::int8 FROM colcrypt.reencrypt_tasks WHERE state = 'waiting for vacuum' AND cleanup_attempts < $1",
        1, types, values, [&] {
            bool isnull;
            Datum ms = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            if (!isnull)
                wait = std::max<long>(0, (long) DatumGetInt64(ms));
        });
    return wait;
}

// The relation's schema-qualified RangeVar, or nullptr when it is gone.
RangeVar *range_var_of(Oid relation) {
    char *name = get_rel_name(relation);
    if (name == nullptr)
        return nullptr;
    return makeRangeVar(get_namespace_name(get_rel_namespace(relation)), name, -1);
}

// VACUUM (ANALYZE) of the table; false when it is gone.
bool vacuum_analyze(Oid relation) {
    bool exists = true;
    in_worker_transaction("colcrypt re-encryption: VACUUM (ANALYZE) of a re-encrypted table", [&] {
        RangeVar *table = range_var_of(relation);
        if (table == nullptr) {
            exists = false;
            return;
        }
        VacuumStmt *stmt = makeNode(VacuumStmt);
        // INDEX_CLEANUP on: the index entries of the old row versions go
        // now, even when few pages hold them.
        stmt->options = list_make2(makeDefElem(pstrdup("analyze"), nullptr, -1),
                                   makeDefElem(pstrdup("index_cleanup"), nullptr, -1));
        stmt->rels = list_make1(makeVacuumRelation(table, relation, NIL));
        stmt->is_vacuumcmd = true;
        ExecVacuum(make_parsestate(nullptr), stmt, true);
    });
    return exists;
}

void reindex_concurrently(Oid table, Oid index) {
    in_worker_transaction("colcrypt re-encryption: REINDEX INDEX CONCURRENTLY of an index holding old envelopes", [&] {
        RangeVar *name = range_var_of(index);
        if (name == nullptr)
            return;
        // Waits for a cut-over of the table to commit; a cut-over that comes
        // later is refused until the rebuild is over.
        hold_index_rebuild_lock(table);
        ReindexStmt *stmt = makeNode(ReindexStmt);
        stmt->kind = REINDEX_OBJECT_INDEX;
        stmt->relation = name;
        stmt->params = list_make1(makeDefElem(pstrdup("concurrently"), nullptr, -1));
        ExecReindex(make_parsestate(nullptr), stmt, true);
        release_index_rebuild_lock();
    });
}

// What is left of the old versions in the table, its indexes and its
// statistics.
struct Leftovers {
    int64 live;
    int64 dead;
    int64 index_entries;
    int64 statistics;
    int64 unreadable;
    char *unchecked_index;
    List *indexes;  // that hold entries under an old version
    char *where;    // "version 1: ..." for last_error
};

Leftovers find_leftovers(const Claimed &claimed) {
    Leftovers left{};
    in_worker_transaction("colcrypt re-encryption: looking for old envelopes left in a table", [&] {
        StringInfoData where;
        initStringInfo(&where);
        ListCell *k, *v;
        forboth(k, claimed.keyrings, v, claimed.versions) {
            VersionUse use;
            find_version_use((std::uint32_t) lfirst_int(k), (std::uint32_t) lfirst_int(v), &use, claimed.relation);
            left.live += use.live;
            left.dead += use.dead;
            left.index_entries += use.index_leaf + use.index_until_rebuilt;
            left.statistics += use.statistics;
            left.unreadable += use.unreadable;
            if (use.unchecked_index != nullptr && left.unchecked_index == nullptr)
                left.unchecked_index = use.unchecked_index;
            left.indexes = list_concat_unique_oid(left.indexes, use.indexes_holding);
            if (use.live + use.dead + use.index_leaf + use.index_until_rebuilt + use.statistics > 0)
                appendStringInfo(&where,
                                 "%sversion %d: %lld in live rows, %lld in old row versions, %lld index entries, "
                                 "%lld planner statistics",
                                 where.len > 0 ? "; " : "", lfirst_int(v), (long long) use.live,
                                 (long long) use.dead, (long long) (use.index_leaf + use.index_until_rebuilt),
                                 (long long) use.statistics);
        }
        left.where = where.data;
    });
    return left;
}

// The task's new state: done, running again (a new pass from block 0), or
// still waiting, with the reason and the time of the next attempt.
void record(const Claimed &claimed, const char *state, const char *error) {
    Oid types[] = {INT8OID, OIDOID, TEXTOID, TEXTOID, INT8OID};
    // No null flags are passed: an empty reason stands for none.
    Datum values[] = {Int64GetDatum(claimed.job), ObjectIdGetDatum(claimed.relation), CStringGetTextDatum(state),
                      CStringGetTextDatum(error != nullptr ? error : ""), Int64GetDatum(kRetryStepMs)};
    in_worker_transaction(
        "colcrypt re-encryption: cleanup",
        "WITH updated AS (UPDATE colcrypt.reencrypt_tasks"
        "   SET state = $3, last_error = NULLIF($4, ''), updated_at = pg_catalog.clock_timestamp(),"
        "       next_block = CASE WHEN $3 = 'running' THEN 0 ELSE next_block END,"
        "       cleanup_after = pg_catalog.clock_timestamp() + cleanup_attempts * $5 * interval '1 millisecond'"
        " WHERE job = $1 AND relation = $2 RETURNING 1) SELECT count(*) FROM updated",
        5, types, values, [] {});
}

// One attempt on a claimed task, in the cleanup's memory context.
void clean_up(const Claimed &claimed) {
    if (!vacuum_analyze(claimed.relation)) {
        record(claimed, "done", nullptr);
        return;
    }
    Leftovers left = find_leftovers(claimed);
    // Indexes whose old entries VACUUM cannot remove (btree pivots, GIN
    // keys); leaf entries of old row versions still readable go with them
    // only once those row versions are gone, so not while any are left.
    if (left.live == 0 && left.dead == 0 && left.index_entries > 0) {
        ListCell *cell;
        foreach (cell, left.indexes)
            reindex_concurrently(claimed.relation, lfirst_oid(cell));
        left = find_leftovers(claimed);
    }
    if (left.live > 0) {
        // A value under an old version was written after the pass (a
        // ciphertext copied in): another pass rewrites it.
        record(claimed, "running", psprintf("cleanup found values written after the pass: %s", left.where));
        return;
    }
    if (left.dead + left.index_entries + left.statistics == 0 && left.unreadable == 0 &&
        left.unchecked_index == nullptr) {
        record(claimed, "done", nullptr);
        return;
    }
    const char *why = left.dead > 0 ? "VACUUM could not remove old row versions yet: a transaction older than the "
                                      "job may still read them"
                                    : left.unchecked_index != nullptr
                                          ? psprintf("index %s cannot be read by the cleanup", left.unchecked_index)
                                          : "old envelopes remain";
    record(claimed, "waiting for vacuum", psprintf("cleanup: %s (%s)", why, left.where));
}

}  // namespace

CleanupResult clean_up_next_task(long *wait_ms) {
    MemoryContext work = AllocSetContextCreate(TopMemoryContext, "colcrypt re-encryption cleanup",
                                               ALLOCSET_DEFAULT_SIZES);
    MemoryContext caller = MemoryContextSwitchTo(work);
    Claimed claimed{0, InvalidOid, NIL, NIL};
    CleanupResult result = CleanupResult::nothing;
    if (claim_task(&claimed, work)) {
        PG_TRY();
        {
            clean_up(claimed);
        }
        PG_CATCH();
        {
            // VACUUM or REINDEX failed (a lock timeout, an exclusion
            // constraint's index): say so in the task and try again later.
            MemoryContextSwitchTo(work);
            ErrorData *error = CopyErrorData();
            FlushErrorState();
            AbortCurrentTransaction();
            release_index_rebuild_lock();  // a session lock: the abort keeps it
            MemoryContextSwitchTo(work);
            // The message only: a detail may name a key's value.
            char *message = psprintf("cleanup failed: %s", error->message);
            ereport(LOG, (errmsg("colcrypt: re-encryption job %lld: %s", (long long) claimed.job, message)));
            FreeErrorData(error);
            record(claimed, "waiting for vacuum", message);
        }
        PG_END_TRY();
        result = CleanupResult::worked;
    } else {
        long wait = next_attempt_in();
        if (wait >= 0) {
            *wait_ms = wait;
            result = CleanupResult::waiting;
        }
    }
    MemoryContextSwitchTo(caller);
    MemoryContextDelete(work);
    return result;
}

}  // namespace colcrypt::pg
