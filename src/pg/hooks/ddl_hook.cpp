// ProcessUtility hook: no column is created without a keyring.
//
// Declared columns, attributes of composite types and domains without a
// keyring get colcrypt.default_key, or are refused.  Columns whose type
// comes from a query (CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED
// VIEW, also under EXPLAIN ANALYZE) are bound to the default keyring by a
// coercion added to the query, or refused; a check after the statement
// refuses any such column that still has none (CREATE TABLE AS EXECUTE).
// Only a restore by a role that restores may create one, so that a dump of
// a database that still has such columns (0.1.0 allowed them) restores
// whole.  Range types over encrypted types are refused: their bounds would
// be ordered by blind-index terms, which means nothing.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/hooks/ddl_hook.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/restore_session.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {

namespace {

ProcessUtility_hook_type previous_utility_hook = nullptr;

bool have_default_key() {
    return guc_default_key != nullptr && guc_default_key[0] != '\0';
}

// The type with a keyring, as one writes it: encrypted_text('keyring'),
// or encrypted_text('keyring')[] for an array.
char *keyed_type_example(Oid type) {
    Oid element = get_element_type(type);
    return OidIsValid(element) ? psprintf("%s('keyring')[]", format_type_be(element))
                               : psprintf("%s('keyring')", format_type_be(type));
}

// A column left without a keyring, allowed only in a restore by a role
// that restores: say so.
void warn_keyring_less(const char *what, Oid type) {
    ereport(WARNING, (errmsg("%s of type %s has no keyring", what, format_type_be(type)),
                      errdetail("Its values stay sealed under transit keys, which any role that may read them can "
                                "decrypt, and which a master key rotation makes unreadable."),
                      errhint("Give it a keyring: ALTER TABLE ... ALTER COLUMN ... TYPE %s.",
                              keyed_type_example(type))));
}

[[noreturn]] void refuse_keyring_less(const char *what, Oid type, const char *hint) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_TABLE_DEFINITION),
                    errmsg("%s of type %s needs a keyring", what, format_type_be(type)), errhint("%s", hint)));
    pg_unreachable();
}

// Give a keyring-less encrypted type name the default keyring, or refuse.
void resolve_keyring(TypeName *type_name, const char *what) {
    if (type_name == nullptr || type_name->typmods != NIL || type_name->typemod >= 0)
        return;
    Type type = LookupTypeName(nullptr, type_name, nullptr, true);
    if (type == nullptr)
        return;  // let PostgreSQL report the unknown type
    Oid type_oid = ((Form_pg_type) GETSTRUCT(type))->oid;
    ReleaseSysCache(type);
    if (!is_encrypted_type(type_oid))
        return;
    if (!have_default_key()) {
        if (restoring_with_privileges()) {
            warn_keyring_less(what, type_oid);
            return;
        }
        refuse_keyring_less(what, type_oid,
                            psprintf("Name one, as in %s, or set colcrypt.default_key.", keyed_type_example(type_oid)));
    }
    (void) keyring_typmod_for_name(guc_default_key);  // validates the name
    A_Const *keyring = makeNode(A_Const);
    keyring->val.sval.type = T_String;
    keyring->val.sval.sval = pstrdup(guc_default_key);
    keyring->location = -1;
    type_name->typmods = list_make1(keyring);
}

void resolve_column(Node *element) {
    if (element != nullptr && IsA(element, ColumnDef)) {
        auto *column = (ColumnDef *) element;
        char *what = psprintf("column \"%s\"", column->colname ? column->colname : "?");
        resolve_keyring(column->typeName, what);
    }
}

// The query's output columns of an encrypted type (or array of one) without
// a keyring: bound to the default keyring by the type-modifier coercion, so
// their values are sealed under it as the table is filled; refused when
// there is no default key.
void bind_query_columns(Query *query) {
    if (query == nullptr || query->commandType == CMD_UTILITY)
        return;  // CREATE TABLE AS EXECUTE: checked after the statement
    ListCell *cell;
    foreach (cell, query->targetList) {
        auto *entry = (TargetEntry *) lfirst(cell);
        if (entry->resjunk)
            continue;
        Oid type = exprType((Node *) entry->expr);
        if (!is_encrypted_type(type) || exprTypmod((Node *) entry->expr) >= 0)
            continue;
        char *what = psprintf("column \"%s\"", entry->resname ? entry->resname : "?");
        if (!have_default_key()) {
            if (restoring_with_privileges()) {
                warn_keyring_less(what, type);
                continue;
            }
            refuse_keyring_less(what, type,
                                psprintf("Cast the expression to a keyring in the query, as in c::%s, or set "
                                         "colcrypt.default_key.",
                                         keyed_type_example(type)));
        }
        int32 typmod = keyring_typmod_for_name(guc_default_key);
        Node *bound = coerce_to_target_type(nullptr, (Node *) entry->expr, type, type, typmod, COERCION_ASSIGNMENT,
                                            COERCE_IMPLICIT_CAST, -1);
        if (bound == nullptr)
            elog(ERROR, "could not bind column \"%s\" to keyring \"%s\"", entry->resname, guc_default_key);
        entry->expr = (Expr *) bound;
    }
}

// After CREATE TABLE AS: any encrypted column still without a keyring.
void check_created_columns(IntoClause *into) {
    Oid relid = RangeVarGetRelid(into->rel, NoLock, true);
    if (!OidIsValid(relid) || restoring_with_privileges())
        return;
    Relation rel = RelationIdGetRelation(relid);
    if (!RelationIsValid(rel))
        return;
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (!att->attisdropped && is_encrypted_type(att->atttypid) && att->atttypmod < 0) {
            char *what = psprintf("column \"%s\"", NameStr(att->attname));
            Oid type = att->atttypid;
            RelationClose(rel);
            refuse_keyring_less(what, type,
                                psprintf("Cast the expression to a keyring in the query, as in c::%s.",
                                         keyed_type_example(type)));
        }
    }
    RelationClose(rel);
}

// The CREATE TABLE AS of a statement, also under EXPLAIN; nullptr if none.
CreateTableAsStmt *table_as_statement(Node *statement) {
    if (IsA(statement, CreateTableAsStmt))
        return (CreateTableAsStmt *) statement;
    if (IsA(statement, ExplainStmt)) {
        Node *query = ((ExplainStmt *) statement)->query;
        if (query != nullptr && IsA(query, Query) && ((Query *) query)->commandType == CMD_UTILITY &&
            ((Query *) query)->utilityStmt != nullptr && IsA(((Query *) query)->utilityStmt, CreateTableAsStmt))
            return (CreateTableAsStmt *) ((Query *) query)->utilityStmt;
    }
    return nullptr;
}

void refuse_encrypted_range(CreateRangeStmt *statement) {
    ListCell *cell;
    foreach (cell, statement->params) {
        auto *param = (DefElem *) lfirst(cell);
        if (strcmp(param->defname, "subtype") != 0)
            continue;
        Oid subtype = typenameTypeId(nullptr, defGetTypeName(param));
        if (encrypted_type_of(getBaseType(subtype)) != nullptr)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("range types over encrypted types are not supported"),
                            errdetail("Encrypted values are ordered by their blind-index terms, which says nothing "
                                      "about their plaintexts."),
                            errhint("Keep the bounds in two encrypted columns.")));
    }
}

void resolve_statement(Node *statement) {
    ListCell *cell;
    switch (nodeTag(statement)) {
    case T_CreateStmt:
        foreach (cell, ((CreateStmt *) statement)->tableElts)
            resolve_column((Node *) lfirst(cell));
        break;
    case T_AlterTableStmt:
        foreach (cell, ((AlterTableStmt *) statement)->cmds) {
            auto *command = (AlterTableCmd *) lfirst(cell);
            if (command->subtype == AT_AddColumn || command->subtype == AT_AlterColumnType)
                resolve_column(command->def);
        }
        break;
    case T_CompositeTypeStmt:
        foreach (cell, ((CompositeTypeStmt *) statement)->coldeflist)
            resolve_column((Node *) lfirst(cell));
        break;
    case T_CreateDomainStmt:
        resolve_keyring(((CreateDomainStmt *) statement)->typeName, "domain");
        break;
    case T_CreateRangeStmt:
        refuse_encrypted_range((CreateRangeStmt *) statement);
        break;
    default:
        if (CreateTableAsStmt *table_as = table_as_statement(statement)) {
            bind_query_columns(castNode(Query, table_as->query));
            // A materialized view stores its own copy of the query, which
            // REFRESH runs and inserts without coercion to the columns.
            if (table_as->into != nullptr && table_as->into->viewQuery != nullptr)
                bind_query_columns(castNode(Query, table_as->into->viewQuery));
        }
        break;
    }
}

bool may_need_resolving(Node *statement) {
    switch (nodeTag(statement)) {
    case T_CreateStmt:
    case T_AlterTableStmt:
    case T_CompositeTypeStmt:
    case T_CreateDomainStmt:
    case T_CreateRangeStmt:
    case T_CreateTableAsStmt:
    case T_ExplainStmt:
        return true;
    default:
        return false;
    }
}

void colcrypt_process_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                              ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                              DestReceiver *dest, QueryCompletion *qc) {
    CreateTableAsStmt *table_as = nullptr;
    bool existed = false;
    if (may_need_resolving(pstmt->utilityStmt)) {
        // The tree may live in a plan cache: change a copy, never the original.
        if (read_only_tree) {
            pstmt = (PlannedStmt *) copyObjectImpl(pstmt);  // copyObject() is a C macro
            read_only_tree = false;
        }
        resolve_statement(pstmt->utilityStmt);
        table_as = table_as_statement(pstmt->utilityStmt);
        // CREATE TABLE IF NOT EXISTS ... AS on an existing table changes nothing.
        existed = table_as != nullptr && OidIsValid(RangeVarGetRelid(table_as->into->rel, NoLock, true));
    }
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    if (table_as != nullptr && !existed)
        check_created_columns(table_as->into);
}

}  // namespace

void install_ddl_hook() {
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = colcrypt_process_utility;
}

}  // namespace colcrypt::pg
