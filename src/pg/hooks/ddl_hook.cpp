// ProcessUtility hook: resolve keyring-less encrypted column types.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/hooks/ddl_hook.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {

namespace {

ProcessUtility_hook_type previous_utility_hook = nullptr;

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
    if (guc_default_key == nullptr || guc_default_key[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_TABLE_DEFINITION),
                        errmsg("%s of type %s needs a keyring", what, format_type_be(type_oid)),
                        errhint("Name one, as in colcrypt.encrypted_text('pii'), or set colcrypt.default_key.")));
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
    default:
        break;
    }
}

bool may_need_resolving(Node *statement) {
    switch (nodeTag(statement)) {
    case T_CreateStmt:
    case T_AlterTableStmt:
    case T_CompositeTypeStmt:
    case T_CreateDomainStmt:
        return true;
    default:
        return false;
    }
}

void colcrypt_process_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                              ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                              DestReceiver *dest, QueryCompletion *qc) {
    if (may_need_resolving(pstmt->utilityStmt)) {
        // The tree may live in a plan cache: change a copy, never the original.
        if (read_only_tree) {
            pstmt = (PlannedStmt *) copyObjectImpl(pstmt);  // copyObject() is a C macro
            read_only_tree = false;
        }
        resolve_statement(pstmt->utilityStmt);
    }
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
}

}  // namespace

void install_ddl_hook() {
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = colcrypt_process_utility;
}

}  // namespace colcrypt::pg
