// The audit trail of key operations (colcrypt.key_events and the server log).
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "lib/stringinfo.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/key_events.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_is_key_event_operation);
}

namespace colcrypt::pg {
namespace {

// Indexed by KeyEvent.
constexpr const char *kEventNames[] = {"create", "rotate",  "auto_rotate", "retire", "rotate_master_key",
                                       "grant",  "revoke", "upgrade_index_order", "grant_encrypt",
                                       "revoke_encrypt", "transfer_key", "export_keyring", "import_keyring",
                                       "rotate_index_key"};
static_assert(sizeof kEventNames / sizeof kEventNames[0] ==
                  static_cast<std::size_t>(KeyEvent::rotate_index_key) + 1,
              "one name per KeyEvent");

}  // namespace

KeyEventActor current_actor() {
    KeyEventActor actor;
    actor.session_user = GetSessionUserId();
    actor.current_user = GetUserId();
    return actor;
}

KeyEventActor begin_key_operation(const char *function) {
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("colcrypt.%s cannot run during recovery", function),
                        errdetail("Keys and grants change on the primary; a standby receives the change through "
                                  "replication."),
                        errhint("Run it on the primary server.")));
    return current_actor();
}

const char *key_event_name(KeyEvent event) {
    return kEventNames[static_cast<std::size_t>(event)];
}

void record_key_event(const KeyEventActor &actor, KeyEvent event, const char *keyring, std::int32_t old_version,
                      std::int32_t new_version, const char *detail) {
    const char *operation = key_event_name(event);
    char *session_user = GetUserNameFromId(actor.session_user, false);
    char *current_user = GetUserNameFromId(actor.current_user, false);
    catalog::insert_key_event(session_user, current_user, operation, keyring, old_version, new_version, detail);

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

// colcrypt._is_key_event_operation(text): the CHECK constraint of
// colcrypt.key_events.operation.
extern "C" Datum colcrypt_is_key_event_operation(PG_FUNCTION_ARGS) {
    char *operation = text_to_cstring(PG_GETARG_TEXT_PP(0));
    for (const char *name : colcrypt::pg::kEventNames)
        if (strcmp(operation, name) == 0)
            PG_RETURN_BOOL(true);
    PG_RETURN_BOOL(false);
}
