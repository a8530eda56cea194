// Keep plaintext out of integrity-constraint errors.
//
// PostgreSQL describes the offending key or row of a unique, foreign-key,
// check or not-null violation ("Key (email)=(alice@example.com) already
// exists.", "Failing row contains (...)") with the columns' output
// functions, which for an encrypted column print plaintext; the message
// then goes to the client and to the server log.  For tables with an
// encrypted column, this hook replaces such details before the message is
// emitted anywhere.  It is conservative: the detail of every integrity error
// on such a table is replaced, whether or not it named an encrypted column.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include "colcrypt/pg/hooks/log_redaction.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

emit_log_hook_type previous_emit_log_hook = nullptr;

constexpr const char *kRedacted = "Values of the table's encrypted columns are not shown.";

bool describes_encrypted_table(const ErrorData *edata) {
    if (edata->schema_name == nullptr || edata->table_name == nullptr || !IsTransactionState())
        return false;
    Oid schema = get_namespace_oid(edata->schema_name, true);
    Oid relation = OidIsValid(schema) ? get_relname_relid(edata->table_name, schema) : InvalidOid;
    return OidIsValid(relation) && has_encrypted_column(relation);
}

void colcrypt_emit_log(ErrorData *edata) {
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

}  // namespace

void install_log_redaction_hook() {
    previous_emit_log_hook = emit_log_hook;
    emit_log_hook = colcrypt_emit_log;
}

}  // namespace colcrypt::pg
