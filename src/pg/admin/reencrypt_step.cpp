// colcrypt._reencrypt_step(job, batch_size): one re-encryption batch, in
// the caller's transaction, run by the background worker and by CALL
// colcrypt.reencrypt_now.  docs/design/reencryption.md, section 3: the
// task row is locked SKIP LOCKED, the batch locks up to batch_size stale
// rows SKIP LOCKED and rewrites only their encrypted columns, re-checked
// under the row lock, as the table's owner with session_replication_role
// = replica.  Plain PostgreSQL-style code: no C++ object with a destructor
// is live here (the batch runs under PG_TRY).
#include "colcrypt/pg/compat/postgres.hpp"

#include <algorithm>
#include <cstring>

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_privilege.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_reencrypt_step);
}

namespace colcrypt::pg {
namespace {

// A task row, locked by this transaction.
struct Task {
    int64 job;
    Oid relation;
    int64 next_block;
    int64 rows_done;
};

constexpr int kMaxColumns = MaxHeapAttributeNumber;

struct Column {
    int16 attnum;
    char *name;
    int32 typmod;
    int32 keyring_id;
    bool counted;         // values_total is known
    int32 to_version;     // the keyring's active version, looked up by the batch
    const char *failed;   // a reason: the column is not rewritten any more
    int64 stale_in_batch; // values the batch rewrote
    bool recounted;
    bool first_count;      // the recount was the task's first: total is set
    int64 total;           // stale values at the first count
    int64 left;            // after a recount
    char *from_versions;  // text form of an int4[], after a recount
};

// What one batch did.
struct Outcome {
    const char *state;       // the task's new state
    int64 locked;            // rows locked
    int64 rewritten;         // rows rewritten
    int64 last_block;        // of the locked rows
    int64 next_block;
    bool new_pass;
    bool finished;
    char *error;             // last_error, or nullptr
};

bool claim_task(bool any_job, int64 job, Task *task) {
    InternalAccess access;
    begin_internal_access(&access);
    QueryArg args[] = {{INT8OID, Int64GetDatum(job), any_job}};
    run_internal_locking_query("SELECT job, relation, next_block, rows_done FROM colcrypt.reencrypt_tasks"
                               " WHERE state IN ('queued', 'running') AND ($1 IS NULL OR job = $1)"
                               // The task least recently worked on: a table that
                               // is busy (locked by an ALTER TABLE) does not
                               // starve the job's other tables.
                               " ORDER BY job, updated_at NULLS FIRST, relation LIMIT 1 FOR UPDATE SKIP LOCKED",
                               SPI_OK_SELECT, 1, args);
    bool found = result_rows() == 1;
    if (found) {
        task->job = result_int64(0, 1);
        task->relation = result_oid(0, 2);
        task->next_block = result_int64(0, 3);
        task->rows_done = result_int64(0, 4);
    }
    end_internal_access(&access);
    return found;
}

int load_columns(const Task &task, Column *columns) {
    InternalAccess access;
    begin_internal_access(&access);
    QueryArg args[] = {{INT8OID, Int64GetDatum(task.job)}, oid_arg(task.relation)};
    run_internal_query("SELECT attnum::int4, column_name::text, type_modifier, keyring_id, values_total IS NOT NULL"
                       "  FROM colcrypt.reencrypt_columns WHERE job = $1 AND relation = $2 AND failed IS NULL"
                       " ORDER BY attnum",
                       SPI_OK_SELECT, 2, args);
    int count = (int) result_rows();
    for (int i = 0; i < count; i++) {
        Column &c = columns[i];
        std::memset(&c, 0, sizeof(c));
        c.attnum = (int16) result_int(i, 1);
        c.name = result_text_copy(i, 2);
        c.typmod = result_int(i, 3);
        c.keyring_id = result_int(i, 4);
        c.counted = result_bool(i, 5);
    }
    end_internal_access(&access);
    return count;
}

// The column as the table has it now; a reason when it no longer is the
// column the job queued.
const char *check_column(Oid relation, const Column &column) {
    HeapTuple tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relation), Int16GetDatum(column.attnum));
    if (!HeapTupleIsValid(tuple))
        return "column was dropped";
    Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tuple);
    const char *reason = nullptr;
    if (att->attisdropped)
        reason = "column was dropped";
    else if (encrypted_type_of(att->atttypid) == nullptr || att->atttypmod != column.typmod)
        reason = "column type changed";
    ReleaseSysCache(tuple);
    if (reason == nullptr && column.keyring_id == 0)
        reason = "the column's keyring does not exist";
    return reason;
}

// "colcrypt._key_version(c) <> v"
void append_stale_test(StringInfo sql, const Column &c) {
    appendStringInfo(sql, "colcrypt._key_version(%s) <> %d", quote_identifier(c.name), c.to_version);
}

// Count the stale values of every active column (header only).
void recount(const char *table, Column *columns, int count) {
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "SELECT ");
    bool first = true;
    for (int i = 0; i < count; i++) {
        if (columns[i].failed != nullptr)
            continue;
        if (!first)
            appendStringInfoString(&sql, ", ");
        first = false;
        appendStringInfoString(&sql, "count(*) FILTER (WHERE ");
        append_stale_test(&sql, columns[i]);
        appendStringInfo(&sql, "), (array_agg(DISTINCT colcrypt._key_version(%s)) FILTER (WHERE ",
                         quote_identifier(columns[i].name));
        append_stale_test(&sql, columns[i]);
        appendStringInfoString(&sql, "))::text");
    }
    appendStringInfo(&sql, " FROM ONLY %s", table);
    if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "colcrypt: could not count the stale values of %s", table);
    int n = 1;
    for (int i = 0; i < count; i++) {
        Column &c = columns[i];
        if (c.failed != nullptr)
            continue;
        bool isnull;
        c.left = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n, &isnull));
        // A recount that finds nothing stale keeps what an earlier count of
        // this batch found: the task's from_versions are every version
        // found stale (the cleanup looks for what is left of each).
        char *versions = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n + 1);
        if (versions != nullptr)
            c.from_versions = MemoryContextStrdup(CurTransactionContext, versions);
        c.recounted = true;
        n += 2;
    }
}

// The last batch statement, kept across transactions: a job's batches of
// one table repeat one statement (its text names the table, the columns
// and their target versions), which is then parsed and planned once.
KeptStatement batch_statement{nullptr, nullptr};

SPIPlanPtr batch_plan(const char *sql) {
    if (batch_statement.plan != nullptr && strcmp(batch_statement.sql, sql) == 0)
        return batch_statement.plan;
    // Forgotten first: if keeping the new one fails, neither is remembered.
    forget_statement(&batch_statement);
    Oid types[] = {TIDOID, INT8OID};
    batch_statement = keep_statement(sql, 2, types);
    return batch_statement.plan;
}

// The batch statement: lock, rewrite, count.
void rewrite(const char *table, Column *columns, int count, int64 from_block, int batch_size, Outcome *out) {
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "WITH locked AS (SELECT ctid");
    for (int i = 0; i < count; i++) {
        if (columns[i].failed != nullptr)
            continue;
        appendStringInfo(&sql, ", (");
        append_stale_test(&sql, columns[i]);
        appendStringInfo(&sql, ") AS s%d", i);
    }
    appendStringInfo(&sql, " FROM ONLY %s WHERE ctid >= $1 AND (", table);
    bool first = true;
    for (int i = 0; i < count; i++) {
        if (columns[i].failed != nullptr)
            continue;
        if (!first)
            appendStringInfoString(&sql, " OR ");
        first = false;
        append_stale_test(&sql, columns[i]);
    }
    appendStringInfo(&sql, ") LIMIT $2 FOR UPDATE SKIP LOCKED), rewritten AS (UPDATE ONLY %s SET ", table);
    first = true;
    for (int i = 0; i < count; i++) {
        const Column &c = columns[i];
        if (c.failed != nullptr)
            continue;
        const char *name = quote_identifier(c.name);
        appendStringInfo(&sql, "%s%s = CASE WHEN ", first ? "" : ", ", name);
        append_stale_test(&sql, c);
        appendStringInfo(&sql, " THEN colcrypt._reencrypt_value(%s, %d) ELSE %s END", name, c.typmod, name);
        first = false;
    }
    // One scan of the locked rows for every figure, the last of them by
    // max(ctid), whose block is read here.
    appendStringInfoString(&sql, " WHERE ctid = ANY (ARRAY(SELECT ctid FROM locked)) RETURNING 1)"
                                 " SELECT l.locked, l.last, (SELECT count(*) FROM rewritten)");
    for (int i = 0; i < count; i++)
        if (columns[i].failed == nullptr)
            appendStringInfo(&sql, ", l.s%d", i);
    appendStringInfoString(&sql, " FROM (SELECT count(*) AS locked, max(ctid) AS last");
    for (int i = 0; i < count; i++)
        if (columns[i].failed == nullptr)
            appendStringInfo(&sql, ", count(*) FILTER (WHERE s%d) AS s%d", i, i);
    appendStringInfoString(&sql, " FROM locked) l");

    ItemPointerData *from = (ItemPointerData *) palloc(sizeof(ItemPointerData));
    ItemPointerSet(from, (BlockNumber) from_block, 0);
    Datum values[] = {PointerGetDatum(from), Int64GetDatum(batch_size)};
    if (SPI_execute_plan(batch_plan(sql.data), values, nullptr, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "colcrypt: the re-encryption batch of %s returned no row", table);
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    out->locked = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
    Datum last = SPI_getbinval(row, desc, 2, &isnull);
    out->last_block = isnull ? from_block : (int64) ItemPointerGetBlockNumber((ItemPointer) DatumGetPointer(last));
    out->rewritten = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
    int n = 4;
    for (int i = 0; i < count; i++)
        if (columns[i].failed == nullptr)
            columns[i].stale_in_batch = DatumGetInt64(SPI_getbinval(row, desc, n++, &isnull));
}

// Everything the batch does to the user's table: as its owner, restricted,
// with triggers of origin mode off.  ERRORs are caught by the caller.
void run_batch(const Task &task, Oid owner, const char *table, Column *columns, int count, int batch_size,
               Outcome *out) {
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    int nest = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                             true, 0, false);
    // Ordinary (origin-enabled) triggers, rules and foreign-key checks do
    // not fire; ALWAYS and REPLICA ones do (docs/design/reencryption.md).
    (void) set_config_option("session_replication_role", "replica", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                             true, 0, false);
    // Rows the owner cannot see (forced row security) make it an error,
    // never a silent skip.
    (void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");

    for (int i = 0; i < count; i++)
        if (columns[i].failed == nullptr)
            columns[i].to_version = (int32) sealing_key_for_typmod(columns[i].typmod).key.key_version;
    bool counted = true;
    for (int i = 0; i < count; i++)
        counted = counted && (columns[i].failed != nullptr || columns[i].counted);
    if (!counted) {
        recount(table, columns, count);
        for (int i = 0; i < count; i++) {
            columns[i].first_count = columns[i].failed == nullptr;
            columns[i].total = columns[i].left;
        }
    }
    rewrite(table, columns, count, task.next_block, batch_size, out);
    // What the first count found, less what this batch rewrote (a recount
    // at the end of the table below replaces it with the exact figure).
    for (int i = 0; i < count; i++)
        if (columns[i].failed == nullptr && columns[i].recounted)
            columns[i].left = std::max<int64>(columns[i].left - columns[i].stale_in_batch, 0);
    out->new_pass = false;
    out->finished = false;
    out->next_block = out->last_block;
    if (out->locked < batch_size) {
        // The end of the table: what is left are rows that were locked by
        // others (or written under an older version meanwhile).
        recount(table, columns, count);
        int64 left = 0;
        for (int i = 0; i < count; i++)
            if (columns[i].failed == nullptr)
                left += columns[i].left;
        if (left == 0) {
            out->finished = true;
            out->state = task.rows_done + out->rewritten > 0 ? "waiting for vacuum" : "done";
        } else {
            out->new_pass = true;
            out->next_block = 0;
        }
    }
    SPI_finish();
    AtEOXact_GUC(false, nest);
    SetUserIdAndSecContext(saved_user, saved_context);
}

// Errors after which the next batch may well succeed.
bool retryable(int sqlerrcode) {
    // 55000 is also the exhausted nonce budget, which the automatic
    // rotation lifts.
    return sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE || sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
           sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED || sqlerrcode == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
}

// run_batch in a subtransaction: an error rolls the batch back and is
// returned as the task's last error instead of ending the caller.
void run_batch_guarded(const Task &task, Oid owner, const char *table, Column *columns, int count, int batch_size,
                       Outcome *out) {
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner resource_owner = CurrentResourceOwner;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
    PG_TRY();
    {
        set_resealing_for_extension(true);
        run_batch(task, owner, table, columns, count, batch_size, out);
        set_resealing_for_extension(false);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context);
        CurrentResourceOwner = resource_owner;
    }
    PG_CATCH();
    {
        set_resealing_for_extension(false);
        MemoryContextSwitchTo(context);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context);
        CurrentResourceOwner = resource_owner;
        // A cancel is the caller's (Ctrl-C on reencrypt_now, a statement
        // timeout): it ends the call, the task stays where it was.
        if (error->sqlerrcode == ERRCODE_QUERY_CANCELED)
            ReThrowError(error);
        out->locked = out->rewritten = 0;
        out->new_pass = out->finished = false;
        out->next_block = task.next_block;
        for (int i = 0; i < count; i++) {
            columns[i].stale_in_batch = 0;
            columns[i].recounted = false;
            columns[i].first_count = false;
        }
        out->error = psprintf("%s (SQLSTATE %s)", error->message, unpack_sql_state(error->sqlerrcode));
        out->state = retryable(error->sqlerrcode) ? "running" : "failed";
        ereport(WARNING, (errmsg("colcrypt: re-encryption batch of %s failed: %s", table, error->message),
                          errdetail(retryable(error->sqlerrcode) ? "The job tries again after the next pause."
                                                                 : "The job's task for this table stops; see "
                                                                   "colcrypt.reencrypt_progress."),
                          errhidestmt(true)));
        FreeErrorData(error);
    }
    PG_END_TRY();
}

void record_outcome(const Task &task, const Column *columns, int count, const Outcome &out) {
    InternalAccess access;
    begin_internal_access(&access);
    for (int i = 0; i < count; i++) {
        const Column &c = columns[i];
        QueryArg args[] = {
            {INT8OID, Int64GetDatum(task.job)},
            oid_arg(task.relation),
            int4_arg(c.attnum),
            {INT8OID, Int64GetDatum(c.stale_in_batch)},
            {INT8OID, Int64GetDatum(c.left), !c.recounted},
            text_arg(c.recounted ? c.from_versions : nullptr),
            {INT4OID, Int32GetDatum(c.to_version), c.to_version == 0},
            text_arg(c.failed),
            {BOOLOID, BoolGetDatum(c.recounted)},
            {INT8OID, Int64GetDatum(c.total), !c.first_count},
        };
        run_internal_query("UPDATE colcrypt.reencrypt_columns SET"
                           "  values_done = values_done + $4,"
                           "  values_total = coalesce(values_total, $10),"
                           "  from_versions = (SELECT pg_catalog.array_agg(DISTINCT v ORDER BY v) FROM"
                           "    pg_catalog.unnest(coalesce(from_versions, '{}') || coalesce($6::int4[], '{}')) v),"
                           "  values_left = CASE WHEN $9 THEN $5 ELSE greatest(values_left - $4, 0) END,"
                           "  to_version = coalesce($7, to_version), failed = coalesce($8, failed)"
                           " WHERE job = $1 AND relation = $2 AND attnum = $3",
                           SPI_OK_UPDATE, 10, args);
    }
    QueryArg args[] = {
        {INT8OID, Int64GetDatum(task.job)},
        oid_arg(task.relation),
        text_arg(out.state),
        {INT8OID, Int64GetDatum(out.next_block)},
        {BOOLOID, BoolGetDatum(out.new_pass)},
        {INT8OID, Int64GetDatum(out.rewritten)},
        {BOOLOID, BoolGetDatum(out.finished || strcmp(out.state, "failed") == 0)},
        text_arg(out.error),
    };
    run_internal_query("UPDATE colcrypt.reencrypt_tasks SET state = $3, next_block = $4,"
                       "  passes = passes + CASE WHEN $5 THEN 1 ELSE 0 END, rows_done = rows_done + $6,"
                       "  batches = batches + 1, started_at = coalesce(started_at, clock_timestamp()),"
                       "  updated_at = clock_timestamp(),"
                       "  finished_at = CASE WHEN $7 THEN clock_timestamp() ELSE finished_at END,"
                       "  last_error = coalesce($8, CASE WHEN $7 THEN last_error END)"
                       " WHERE job = $1 AND relation = $2",
                       SPI_OK_UPDATE, 8, args);
    end_internal_access(&access);
}

// The table of a task, locked RowExclusive without waiting; its owner and
// qualified name.  A reason (failed) or busy when it cannot be worked on now.
bool open_table(const Task &task, Oid *owner, char **table, const char **failed, bool *busy) {
    *failed = nullptr;
    *busy = false;
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(task.relation))) {
        *failed = "table was dropped";
        return false;
    }
    // Never queue behind an ALTER TABLE (and make every later writer wait
    // behind us): try again after the pause.
    if (!ConditionalLockRelationOid(task.relation, RowExclusiveLock)) {
        *busy = true;
        return false;
    }
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(task.relation));
    if (!HeapTupleIsValid(tuple)) {
        *failed = "table was dropped";
        return false;
    }
    Form_pg_class rel = (Form_pg_class) GETSTRUCT(tuple);
    *owner = rel->relowner;
    bool forced = rel->relrowsecurity && rel->relforcerowsecurity;
    *table = quote_qualified_identifier(get_namespace_name(rel->relnamespace), NameStr(rel->relname));
    ReleaseSysCache(tuple);
    if (forced) {
        *failed = "the table forces row security, which hides rows from the re-encryption";
        return false;
    }
    return true;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

extern "C" Datum colcrypt_reencrypt_step(PG_FUNCTION_ARGS) {
    bool any_job = PG_ARGISNULL(0);
    int64 job = any_job ? 0 : PG_GETARG_INT64(0);
    int batch_size = PG_ARGISNULL(1) ? guc_reencrypt_batch_size : PG_GETARG_INT32(1);
    if (batch_size < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("batch size must be at least 1"),
                        errhint("Pass NULL for colcrypt.reencrypt_batch_size.")));
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

    Task task;
    if (!claim_task(any_job, job, &task))
        PG_RETURN_VOID();
    Column *columns = (Column *) palloc0(sizeof(Column) * kMaxColumns);
    int count = load_columns(task, columns);
    Outcome out{};
    out.state = "running";
    out.next_block = task.next_block;

    Oid owner = InvalidOid;
    char *table = nullptr;
    const char *failed;
    bool busy;
    int active = 0;
    if (open_table(task, &owner, &table, &failed, &busy)) {
        for (int i = 0; i < count; i++) {
            Column &c = columns[i];
            c.failed = check_column(task.relation, c);
            if (c.failed == nullptr)
                active++;
        }
        if (active == 0)
            out.error = pstrdup("no encrypted column of the job is left in the table");
        else
            run_batch_guarded(task, owner, table, columns, count, batch_size, &out);
        if (active == 0)
            out.state = "failed";
    } else if (busy) {
        out.error = pstrdup("the table is locked by another transaction (ALTER TABLE?); retrying after the pause");
    } else {
        out.state = "failed";
        out.error = pstrdup(failed);
    }
    record_outcome(task, columns, count, out);

    Datum values[5];
    bool nulls[5] = {false, false, false, false, out.error == nullptr};
    values[0] = Int64GetDatum(task.job);
    values[1] = ObjectIdGetDatum(task.relation);
    values[2] = Int64GetDatum(out.rewritten);
    values[3] = CStringGetTextDatum(out.state);
    values[4] = out.error != nullptr ? CStringGetTextDatum(out.error) : (Datum) 0;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    PG_RETURN_VOID();
}
