// SQL-callable grants of a keyring's privileges (keys/keyring_privilege.hpp):
// grant_decrypt, revoke_decrypt, grant_encrypt, revoke_encrypt.  Each grant
// and revoke is recorded in colcrypt.key_events.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/keys/keyring_privilege.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_grant_decrypt);
PG_FUNCTION_INFO_V1(colcrypt_revoke_decrypt);
PG_FUNCTION_INFO_V1(colcrypt_grant_encrypt);
PG_FUNCTION_INFO_V1(colcrypt_revoke_encrypt);
}

using namespace colcrypt::pg;

namespace {

enum class Change { grant, revoke };

// What one (privilege, change) pair writes and says.
struct GrantVerb {
    KeyringPrivilege privilege;
    Change change;
    const char *function;   // for the error during recovery
    KeyEvent event;
    const char *done;       // "decryption granted to", for the audit detail
    const char *unchanged;  // NOTICE when nothing changed: role, keyring
};

constexpr GrantVerb kVerbs[] = {
    {KeyringPrivilege::decrypt, Change::grant, "grant_decrypt", KeyEvent::grant, "decryption granted to",
     "%s may already decrypt keyring \"%s\""},
    {KeyringPrivilege::decrypt, Change::revoke, "revoke_decrypt", KeyEvent::revoke, "decryption revoked from",
     "%s holds no grant to decrypt keyring \"%s\""},
    {KeyringPrivilege::encrypt, Change::grant, "grant_encrypt", KeyEvent::grant_encrypt, "encryption granted to",
     "%s may already encrypt under keyring \"%s\""},
    {KeyringPrivilege::encrypt, Change::revoke, "revoke_encrypt", KeyEvent::revoke_encrypt, "encryption revoked from",
     "%s holds no grant to encrypt under keyring \"%s\""},
};

const GrantVerb &verb(KeyringPrivilege privilege, Change change) {
    for (const GrantVerb &v : kVerbs)
        if (v.privilege == privilege && v.change == change)
            return v;
    pg_unreachable();
}

// role "x", or PUBLIC.
char *grantee_label(Oid role) {
    return OidIsValid(role) ? psprintf("role \"%s\"", GetUserNameFromId(role, false)) : pstrdup("PUBLIC");
}

bool apply(const GrantVerb &v, int32 keyring_id, Oid role, const char *grantor) {
    if (v.privilege == KeyringPrivilege::decrypt)
        return v.change == Change::grant ? catalog::insert_decrypt_grant(keyring_id, role, grantor)
                                         : catalog::delete_decrypt_grant(keyring_id, role);
    return v.change == Change::grant ? catalog::insert_encrypt_grant(keyring_id, role, grantor)
                                     : catalog::delete_encrypt_grant(keyring_id, role);
}

void change_grant(KeyringPrivilege privilege, Change change, const char *name, Oid role) {
    const GrantVerb &v = verb(privilege, change);
    KeyEventActor actor = begin_key_operation(v.function);
    char *label = grantee_label(role);
    char *grantor = GetUserNameFromId(actor.current_user, false);

    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, false, &keyring);
    if (!apply(v, keyring.keyring_id, role, grantor)) {
        ereport(NOTICE, (errmsg(v.unchanged, label, keyring.name)));
        return;
    }
    invalidate_key_caches();
    record_key_event(actor, v.event, keyring.name, 0, 0,
                     psprintf("%s %s", v.done, label));
}

// Decryption is granted to roles only: a grant to PUBLIC would make every
// role able to read every value, which ciphertext at rest is there to stop.
Oid decrypt_grantee(Oid role) {
    if (!OidIsValid(role))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("decryption is granted to roles, not to PUBLIC"),
                        errhint("Grant it to a role, and grant that role to others.")));
    return role;
}

// A role name, or PUBLIC (any case), as in has_table_privilege().
Oid encrypt_grantee(text *role) {
    char *name = text_to_cstring(role);
    return get_role_oid_or_public(name);
}

}  // namespace

// colcrypt.grant_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_grant_decrypt(PG_FUNCTION_ARGS) {
    change_grant(KeyringPrivilege::decrypt, Change::grant, text_to_cstring(PG_GETARG_TEXT_PP(0)),
                 decrypt_grantee(PG_GETARG_OID(1)));
    PG_RETURN_VOID();
}

// colcrypt.revoke_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_revoke_decrypt(PG_FUNCTION_ARGS) {
    change_grant(KeyringPrivilege::decrypt, Change::revoke, text_to_cstring(PG_GETARG_TEXT_PP(0)),
                 decrypt_grantee(PG_GETARG_OID(1)));
    PG_RETURN_VOID();
}

// colcrypt.grant_encrypt(keyring text, role text): role may be 'public'.
extern "C" Datum colcrypt_grant_encrypt(PG_FUNCTION_ARGS) {
    change_grant(KeyringPrivilege::encrypt, Change::grant, text_to_cstring(PG_GETARG_TEXT_PP(0)),
                 encrypt_grantee(PG_GETARG_TEXT_PP(1)));
    PG_RETURN_VOID();
}

// colcrypt.revoke_encrypt(keyring text, role text)
extern "C" Datum colcrypt_revoke_encrypt(PG_FUNCTION_ARGS) {
    change_grant(KeyringPrivilege::encrypt, Change::revoke, text_to_cstring(PG_GETARG_TEXT_PP(0)),
                 encrypt_grantee(PG_GETARG_TEXT_PP(1)));
    PG_RETURN_VOID();
}
