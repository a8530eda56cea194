// The audit trail of key operations (colcrypt.key_events and the server log).
#include "colcrypt/pg/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/internal_access.hpp"
#include "colcrypt/pg/key_events.hpp"

namespace colcrypt::pg {

KeyEventActor current_actor() {
    KeyEventActor actor;
    actor.session_user = GetSessionUserId();
    actor.current_user = GetUserId();
    return actor;
}

void record_key_event(const KeyEventActor &actor, const char *operation, const char *keyring,
                      std::int32_t old_version, std::int32_t new_version, const char *detail) {
    char *session_user = GetUserNameFromId(actor.session_user, false);
    char *current_user = GetUserNameFromId(actor.current_user, false);

    InternalAccess access;
    begin_internal_access(&access);
    Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID};
    Datum values[] = {CStringGetTextDatum(session_user),
                      CStringGetTextDatum(current_user),
                      CStringGetTextDatum(operation),
                      keyring ? CStringGetTextDatum(keyring) : (Datum) 0,
                      Int32GetDatum(old_version),
                      Int32GetDatum(new_version),
                      detail ? CStringGetTextDatum(detail) : (Datum) 0};
    char nulls[] = {' ', ' ', ' ', keyring ? ' ' : 'n', old_version > 0 ? ' ' : 'n', new_version > 0 ? ' ' : 'n',
                    detail ? ' ' : 'n'};
    int rc = SPI_execute_with_args("INSERT INTO colcrypt.key_events"
                                   " (session_user_name, current_user_name, operation, keyring,"
                                   "  old_version, new_version, detail)"
                                   " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                   7, types, values, nulls, false, 0);
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "colcrypt internal query failed: %s", SPI_result_code_string(rc));
    end_internal_access(&access);

    StringInfoData line;
    initStringInfo(&line);
    appendStringInfo(&line, "colcrypt: %s", operation);
    if (keyring)
        appendStringInfo(&line, " keyring \"%s\"", keyring);
    if (old_version > 0 && new_version > 0)
        appendStringInfo(&line, " version %d -> %d", old_version, new_version);
    else if (new_version > 0)
        appendStringInfo(&line, " version %d", new_version);
    else if (old_version > 0)
        appendStringInfo(&line, " version %d", old_version);
    appendStringInfo(&line, " by role \"%s\" (session user \"%s\")", current_user, session_user);
    if (detail)
        appendStringInfo(&line, ": %s", detail);
    // No STATEMENT line: the log line says all, and a statement's text is
    // not ours to copy into the log.
    ereport(LOG, (errmsg_internal("%s", line.data), errhidestmt(true)));
}

}  // namespace colcrypt::pg
