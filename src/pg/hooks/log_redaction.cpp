// Keep plaintext out of integrity-constraint errors and COPY's error context.
//
// PostgreSQL describes the offending key or row of a unique, foreign-key,
// check or not-null violation ("Key (email)=(alice@example.com) already
// exists.", "Failing row contains (...)") with the columns' output
// functions, which for an encrypted column print plaintext; the message
// then goes to the client and to the server log.  For tables with an
// encrypted column, this hook replaces such details.  It is conservative:
// the detail of every integrity error on such a table is replaced, whether
// or not it named an encrypted column.  PostgreSQL calls the hook for the
// messages it writes to the server log (log_min_messages), and the client
// then gets the redacted message too; a message only the client gets is
// not redacted, and is about values the client sent.
//
// COPY FROM adds a context line to every message raised while it reads a
// row, quoting the input line or the column value being converted
// ('COPY people, line 3, column email: "alice@example.com"'), which in text
// format is the plaintext.  While a COPY FROM into a table with an encrypted
// column runs, each context line naming that table is replaced by one that
// keeps the line number and drops the input.  The line's wording is
// translated, so it is recognised by the table name, not by its words: any
// context line naming the table goes, also one from a trigger.  A data
// exception raised meanwhile (an input function refusing a value) loses
// its message too, which quotes the value.
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

// The tables the COPY FROMs of this backend are loading (a trigger may run
// another), as COPY's context names them (unqualified), when they have an
// encrypted column.  A COPY that returns takes its entry off; one that
// fails leaves it for the report of its error, which comes later, and
// transaction end clears them all.
constexpr int kMaxCopyTargets = 8;
char copy_targets[kMaxCopyTargets][NAMEDATALEN];
int copy_depth = 0;  // may pass kMaxCopyTargets: the deeper ones are not kept

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

// The COPY target a context line names, or nullptr.
const char *copy_target_in(const char *line, size_t length, const char **at) {
    for (int i = 0; i < Min(copy_depth, kMaxCopyTargets); i++)
        if ((*at = find_in(line, length, copy_targets[i])) != nullptr)
            return copy_targets[i];
    return nullptr;
}

// Each context line naming a COPY target becomes "COPY t, line N (...)", N
// being the first number after the name: the line number, in every
// translation of COPY's wording.  Returns the target named, or nullptr.
const char *redact_copy_context(ErrorData *edata) {
    MemoryContext old = MemoryContextSwitchTo(ErrorContext);
    StringInfoData out;
    initStringInfo(&out);
    const char *named = nullptr;
    for (const char *line = edata->context;;) {
        const char *end = strchr(line, '\n');
        size_t length = end != nullptr ? (size_t) (end - line) : strlen(line);
        const char *at;
        const char *target = copy_target_in(line, length, &at);
        if (target != nullptr) {
            const char *p = at + strlen(target);
            const char *stop = line + length;
            while (p < stop && !isdigit((unsigned char) *p))
                p++;
            const char *digits = p;
            while (p < stop && isdigit((unsigned char) *p))
                p++;
            appendStringInfo(&out, "COPY %s", target);
            if (p > digits)
                appendStringInfo(&out, ", line %.*s", (int) (p - digits), digits);
            appendStringInfoString(&out, " (input not shown: the table has encrypted columns)");
            named = target;
        } else {
            appendBinaryStringInfo(&out, line, (int) length);
        }
        if (end == nullptr)
            break;
        appendStringInfoChar(&out, '\n');
        line = end + 1;
    }
    // ErrorContext owns the strings of edata and frees them with it.
    if (named != nullptr)
        edata->context = out.data;
    else
        pfree(out.data);
    MemoryContextSwitchTo(old);
    return named;
}

// Errors whose messages never quote input: colcrypt's own, and those of
// COPY's line parser ("extra data after last expected column").
// PostgreSQL keeps the base name of the file that raised an error;
// colcrypt's files are C++, PostgreSQL's are C.
bool quotes_no_input(const ErrorData *edata) {
    if (edata->filename == nullptr)
        return false;
    size_t length = strlen(edata->filename);
    return (length > 4 && strcmp(edata->filename + length - 4, ".cpp") == 0) ||
           strcmp(edata->filename, "copyfromparse.c") == 0 || strcmp(edata->filename, "copyfrom.c") == 0;
}

// A data exception raised while COPY reads a row of such a table quotes
// the input it refused ('invalid input syntax for type integer:
// "alice@example.com"' when a line's columns are shifted), which may be a
// plaintext: the message says only which table, and keeps the SQLSTATE.
void redact_copy_input_error(ErrorData *edata, const char *target) {
    edata->message = MemoryContextStrdup(
        ErrorContext, psprintf("invalid input for table \"%s\" (not shown: the table has encrypted columns)", target));
    edata->detail = edata->detail_log = nullptr;
}

// Errors that describe a whole row with the columns' output functions and
// name no table: a view's WITH CHECK OPTION ("Failing row contains"), and
// REFRESH MATERIALIZED VIEW CONCURRENTLY's duplicate rows ("Row: ...").
// Their table cannot be told from the message, so in a database with
// colcrypt installed their detail is always replaced.
bool describes_row_of_unknown_table(const ErrorData *edata) {
    return (edata->sqlerrcode == ERRCODE_WITH_CHECK_OPTION_VIOLATION ||
            edata->sqlerrcode == ERRCODE_CARDINALITY_VIOLATION) &&
           IsTransactionState() && OidIsValid(encrypted_type_oid(kEncryptedTypes[0]));
}

void colcrypt_emit_log(ErrorData *edata) {
    const char *copy_table = nullptr;
    if (copy_depth > 0 && edata->context != nullptr)
        copy_table = redact_copy_context(edata);
    if (copy_table != nullptr && edata->elevel >= ERROR &&
        ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_DATA_EXCEPTION && !quotes_no_input(edata))
        redact_copy_input_error(edata, copy_table);
    if (edata->elevel >= ERROR && (edata->detail != nullptr || edata->detail_log != nullptr) &&
        ((ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION &&
          describes_encrypted_table(edata)) ||
         describes_row_of_unknown_table(edata))) {
        // ErrorContext owns the strings of edata and frees them with it.
        if (edata->detail != nullptr)
            edata->detail = MemoryContextStrdup(ErrorContext, kRedacted);
        if (edata->detail_log != nullptr)
            edata->detail_log = MemoryContextStrdup(ErrorContext, kRedacted);
    }
    if (previous_emit_log_hook)
        previous_emit_log_hook(edata);
}

// Whether statement is a COPY FROM into a table with an encrypted column;
// its name in *name.
bool copies_into_encrypted_table(const Node *statement, const char **name) {
    if (statement == nullptr || !IsA(statement, CopyStmt))
        return false;
    const auto *copy = (const CopyStmt *) statement;
    if (!copy->is_from || copy->relation == nullptr)
        return false;
    Oid relation = RangeVarGetRelid(copy->relation, NoLock, true);
    *name = copy->relation->relname;
    return OidIsValid(relation) && has_encrypted_column(relation);
}

void colcrypt_copy_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                           ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                           DestReceiver *dest, QueryCompletion *qc) {
    const char *name = nullptr;
    bool tracked = copies_into_encrypted_table(pstmt->utilityStmt, &name);
    if (tracked) {
        if (copy_depth < kMaxCopyTargets)
            strlcpy(copy_targets[copy_depth], name, NAMEDATALEN);
        copy_depth++;
    }
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    if (tracked && copy_depth > 0)
        copy_depth--;
}

void forget_copy_targets(XactEvent, void *) {
    copy_depth = 0;
}

}  // namespace

void install_log_redaction_hook() {
    previous_emit_log_hook = emit_log_hook;
    emit_log_hook = colcrypt_emit_log;
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = colcrypt_copy_utility;
    RegisterXactCallback(forget_copy_targets, nullptr);
}

}  // namespace colcrypt::pg
