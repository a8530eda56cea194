// SQL-callable grants of decryption: grant_decrypt, revoke_decrypt.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_grant_decrypt);
PG_FUNCTION_INFO_V1(colcrypt_revoke_decrypt);
}

using namespace colcrypt::pg;

namespace {

void check_role(Oid role) {
    if (!OidIsValid(role))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("decryption is granted to roles, not to PUBLIC"),
                        errhint("Grant it to a role, and grant that role to others.")));
}

}  // namespace

// colcrypt.grant_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_grant_decrypt(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid role = PG_GETARG_OID(1);
    check_role(role);
    char *role_name = GetUserNameFromId(role, false);
    KeyEventActor actor = current_actor();
    char *grantor = GetUserNameFromId(actor.current_user, false);

    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, false, &keyring);
    if (!catalog::insert_decrypt_grant(keyring.keyring_id, role, grantor)) {
        ereport(NOTICE, (errmsg("role \"%s\" may already decrypt keyring \"%s\"", role_name, keyring.name)));
        PG_RETURN_VOID();
    }
    invalidate_key_caches();
    record_key_event(actor, KeyEvent::grant, keyring.name, 0, 0,
                     psprintf("decryption granted to role \"%s\"", role_name));
    PG_RETURN_VOID();
}

// colcrypt.revoke_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_revoke_decrypt(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid role = PG_GETARG_OID(1);
    check_role(role);
    char *role_name = GetUserNameFromId(role, false);
    KeyEventActor actor = current_actor();

    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, false, &keyring);
    if (!catalog::delete_decrypt_grant(keyring.keyring_id, role)) {
        ereport(NOTICE, (errmsg("role \"%s\" holds no grant to decrypt keyring \"%s\"", role_name, keyring.name)));
        PG_RETURN_VOID();
    }
    invalidate_key_caches();
    record_key_event(actor, KeyEvent::revoke, keyring.name, 0, 0,
                     psprintf("decryption revoked from role \"%s\"", role_name));
    PG_RETURN_VOID();
}
