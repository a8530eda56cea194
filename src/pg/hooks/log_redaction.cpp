// Keep plaintext out of integrity-constraint errors and COPY's error context.
//
// PostgreSQL describes the offending key or row of a unique, foreign-key,
// check or not-null violation ("Key (email)=(alice@example.com) already
// exists.", "Failing row contains (...)") with the columns' output
// functions, which for an encrypted column print plaintext; the message
// then goes to the client and to the server log.  For tables with an
// encrypted column, this hook replaces such details before the message is
// emitted anywhere.  It is conservative: the detail of every integrity error
// on such a table is replaced, whether or not it named an encrypted column.
//
// COPY FROM adds a context line to every message raised while it reads a
// row, quoting the input line or the column value being converted
// ('COPY people, line 3, column email: "alice@example.com"'), which in text
// format is the plaintext.  While a COPY FROM into a table with an encrypted
// column runs, each context line naming that table is replaced by one that
// keeps the line number and drops the input.  The line's wording is
// translated, so it is recognised by the table name, not by its words: any
// context line naming the table goes, also one from a trigger.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include <cctype>
#include <cstring>

#include "colcrypt/pg/hooks/log_redaction.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

emit_log_hook_type previous_emit_log_hook = nullptr;
ProcessUtility_hook_type previous_utility_hook = nullptr;

constexpr const char *kRedacted = "Values of the table's encrypted columns are not shown.";

// The table a COPY FROM of this backend is loading, as COPY's context
// names it (unqualified), while it has an encrypted column; empty otherwise.
// Cleared when the COPY returns and at transaction end, which comes after
// the report of an error that ended the COPY.
char copy_target[NAMEDATALEN];

bool describes_encrypted_table(const ErrorData *edata) {
    if (edata->schema_name == nullptr || edata->table_name == nullptr || !IsTransactionState())
        return false;
    Oid schema = get_namespace_oid(edata->schema_name, true);
    Oid relation = OidIsValid(schema) ? get_relname_relid(edata->table_name, schema) : InvalidOid;
    return OidIsValid(relation) && has_encrypted_column(relation);
}

// Where name occurs in line[0, length), or nullptr.
const char *find_in(const char *line, size_t length, const char *name) {
    size_t name_length = strlen(name);
    for (size_t i = 0; name_length > 0 && i + name_length <= length; i++)
        if (memcmp(line + i, name, name_length) == 0)
            return line + i;
    return nullptr;
}

// Each context line naming the COPY's table becomes "COPY t, line N (...)",
// N being the first number after the name: the line number, in every
// translation of COPY's wording.
void redact_copy_context(ErrorData *edata) {
    MemoryContext old = MemoryContextSwitchTo(ErrorContext);
    StringInfoData out;
    initStringInfo(&out);
    bool changed = false;
    for (const char *line = edata->context;;) {
        const char *end = strchr(line, '\n');
        size_t length = end != nullptr ? (size_t) (end - line) : strlen(line);
        const char *name = find_in(line, length, copy_target);
        if (name != nullptr) {
            const char *p = name + strlen(copy_target);
            const char *stop = line + length;
            while (p < stop && !isdigit((unsigned char) *p))
                p++;
            const char *digits = p;
            while (p < stop && isdigit((unsigned char) *p))
                p++;
            appendStringInfo(&out, "COPY %s", copy_target);
            if (p > digits)
                appendStringInfo(&out, ", line %.*s", (int) (p - digits), digits);
            appendStringInfoString(&out, " (input not shown: the table has encrypted columns)");
            changed = true;
        } else {
            appendBinaryStringInfo(&out, line, (int) length);
        }
        if (end == nullptr)
            break;
        appendStringInfoChar(&out, '\n');
        line = end + 1;
    }
    // ErrorContext owns the strings of edata and frees them with it.
    if (changed)
        edata->context = out.data;
    else
        pfree(out.data);
    MemoryContextSwitchTo(old);
}

void colcrypt_emit_log(ErrorData *edata) {
    if (copy_target[0] != '\0' && edata->context != nullptr)
        redact_copy_context(edata);
    if (edata->elevel >= ERROR &&
        ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION &&
        (edata->detail != nullptr || edata->detail_log != nullptr) && describes_encrypted_table(edata)) {
        // ErrorContext owns the strings of edata and frees them with it.
        if (edata->detail != nullptr)
            edata->detail = MemoryContextStrdup(ErrorContext, kRedacted);
        if (edata->detail_log != nullptr)
            edata->detail_log = MemoryContextStrdup(ErrorContext, kRedacted);
    }
    if (previous_emit_log_hook)
        previous_emit_log_hook(edata);
}

void note_copy_target(const Node *statement) {
    copy_target[0] = '\0';
    if (statement == nullptr || !IsA(statement, CopyStmt))
        return;
    const auto *copy = (const CopyStmt *) statement;
    if (!copy->is_from || copy->relation == nullptr)
        return;
    Oid relation = RangeVarGetRelid(copy->relation, NoLock, true);
    if (OidIsValid(relation) && has_encrypted_column(relation))
        strlcpy(copy_target, copy->relation->relname, sizeof(copy_target));
}

void colcrypt_copy_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                           ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                           DestReceiver *dest, QueryCompletion *qc) {
    note_copy_target(pstmt->utilityStmt);
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    copy_target[0] = '\0';
}

void forget_copy_target(XactEvent, void *) {
    copy_target[0] = '\0';
}

}  // namespace

void install_log_redaction_hook() {
    previous_emit_log_hook = emit_log_hook;
    emit_log_hook = colcrypt_emit_log;
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = colcrypt_copy_utility;
    RegisterXactCallback(forget_copy_target, nullptr);
}

}  // namespace colcrypt::pg
