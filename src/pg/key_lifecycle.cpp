// SQL-callable key lifecycle: rotate_key, retire_key, grant_decrypt,
// revoke_decrypt.  (create_key is in key_functions.cpp, rotate_master_key in
// master_key_rotation.cpp.)
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/master_key.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/internal_access.hpp"
#include "colcrypt/pg/key_events.hpp"
#include "colcrypt/pg/key_lifecycle.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/master_key_provider.hpp"
#include "colcrypt/pg/nonce_budget.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_rotate_key);
PG_FUNCTION_INFO_V1(colcrypt_retire_key);
PG_FUNCTION_INFO_V1(colcrypt_grant_decrypt);
PG_FUNCTION_INFO_V1(colcrypt_revoke_decrypt);
}

namespace colcrypt::pg {
namespace {

struct LockedKeyring {
    std::int32_t keyring_id;
    std::int32_t typmod;
    char name[NAMEDATALEN];
};

// Look a keyring up by name (or by id when name is nullptr) inside internal
// access, locking its row: FOR UPDATE serializes operations that change its
// versions, FOR SHARE only keeps it from changing underneath.
void lock_keyring(const char *name, std::int32_t keyring_id, bool for_update, LockedKeyring *out) {
    const char *strength = for_update ? "UPDATE" : "SHARE";
    char *sql = psprintf("SELECT keyring_id, name, type_modifier FROM colcrypt.keyrings WHERE %s = $1 FOR %s",
                         name ? "name" : "keyring_id", strength);
    Oid type = name ? TEXTOID : INT4OID;
    Datum value = name ? CStringGetTextDatum(name) : Int32GetDatum(keyring_id);
    run_internal_locking_query(sql, 1, &type, &value, SPI_OK_SELECT);
    if (SPI_processed == 0) {
        if (name)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring \"%s\" does not exist", name)));
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %d does not exist", keyring_id)));
    }
    out->keyring_id = result_int(0, 1);
    result_text(0, 2, out->name, sizeof(out->name));
    out->typmod = result_int(0, 3);
}

void new_wrapped_data_key(core::MasterKey &master, std::int32_t keyring_id, std::int32_t version,
                          std::uint8_t out[core::kWrappedKeySize]) {
    cpp_guard([&] {
        master.wrap((std::uint32_t) keyring_id, core::KeyPurpose::data, (std::uint32_t) version,
                    core::SecretKey::random(), out);
    });
}

int64 result_int64(int row, int n) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

// Every column that can hold values of a keyring: columns (of tables,
// partitions and populated materialized views in this database) whose type
// is a colcrypt encrypted type, a domain over one or an array of one, with
// the keyring's type modifier or none (-1: such columns keep values of any
// keyring as they are).  Partitioned parents are skipped: their partitions
// are scanned.  Other sessions' temporary tables cannot be read and are
// skipped.
constexpr const char *kColumnsQuery =
    "SELECT a.attrelid::pg_catalog.regclass::pg_catalog.text,"
    "       pg_catalog.quote_ident(a.attname),"
    "       t.typcategory = 'A' AND t.typelem <> 0"
    "  FROM pg_catalog.pg_attribute a"
    "  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    "  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    "  JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype"
    "                                            WHEN t.typcategory = 'A' THEN t.typelem"
    "                                            ELSE t.oid END"
    " WHERE c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped"
    "   AND (c.relkind <> 'm' OR c.relispopulated)"
    "   AND NOT pg_catalog.pg_is_other_temp_schema(c.relnamespace)"
    "   AND b.typnamespace = 'colcrypt'::pg_catalog.regnamespace"
    "   AND b.typtype = 'b' AND b.typelem = 0 AND b.typname LIKE 'encrypted\\_%'"
    "   AND CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END IN ($1, -1)"
    " ORDER BY 1, a.attnum";

// How many stored values use (keyring, version); the columns holding them
// are listed in *where (at most a screenful).
int64 count_values_using(const LockedKeyring &keyring, std::int32_t version, StringInfo where) {
    Oid typmod_type = INT4OID;
    Datum typmod = Int32GetDatum(keyring.typmod);
    run_internal_locking_query(kColumnsQuery, 1, &typmod_type, &typmod, SPI_OK_SELECT);
    uint64 columns = SPI_processed;
    char **relations = (char **) palloc(sizeof(char *) * (columns + 1));
    char **names = (char **) palloc(sizeof(char *) * (columns + 1));
    bool *arrays = (bool *) palloc(sizeof(bool) * (columns + 1));
    for (uint64 i = 0; i < columns; i++) {
        relations[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        bool isnull;
        arrays[i] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
    }

    constexpr int kListed = 10;
    int listed = 0;
    int unlisted = 0;
    int64 total = 0;
    Oid types[] = {INT4OID, INT4OID};
    Datum values[] = {Int32GetDatum(keyring.keyring_id), Int32GetDatum(version)};
    for (uint64 i = 0; i < columns; i++) {
        char *sql = arrays[i] ? psprintf("SELECT pg_catalog.count(*) FROM ONLY %s AS r, pg_catalog.unnest(r.%s) AS v(x)"
                                         " WHERE colcrypt._keyring_id(v.x) = $1 AND colcrypt._key_version(v.x) = $2",
                                         relations[i], names[i])
                              : psprintf("SELECT pg_catalog.count(*) FROM ONLY %s AS r"
                                         " WHERE colcrypt._keyring_id(r.%s) = $1 AND colcrypt._key_version(r.%s) = $2",
                                         relations[i], names[i], names[i]);
        run_internal_locking_query(sql, 2, types, values, SPI_OK_SELECT);
        int64 n = result_int64(0, 1);
        if (n == 0)
            continue;
        total += n;
        if (listed < kListed) {
            appendStringInfo(where, "%s%s.%s (" INT64_FORMAT ")", listed > 0 ? ", " : "", relations[i], names[i], n);
            listed++;
        } else {
            unlisted++;
        }
    }
    if (unlisted > 0)
        appendStringInfo(where, " and %d more column%s", unlisted, unlisted == 1 ? "" : "s");
    return total;
}

void check_role(Oid role) {
    if (!OidIsValid(role))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("decryption is granted to roles, not to PUBLIC"),
                        errhint("Grant it to a role, and grant that role to others.")));
}

}  // namespace

std::int32_t rotate_data_key(const char *name, std::int32_t keyring_id, std::int32_t expected_active,
                             const KeyEventActor &actor, const char *operation, const char *detail) {
    core::MasterKey &master = master_key();
    InternalAccess access;
    begin_internal_access(&access);
    LockedKeyring keyring;
    lock_keyring(name, keyring_id, true, &keyring);
    // Read after the lock: a rotation that committed while we waited is seen.
    int32 args[] = {keyring.keyring_id};
    Oid id_type = INT4OID;
    Datum id = Int32GetDatum(keyring.keyring_id);
    run_internal_locking_query("SELECT coalesce(max(version), 0), coalesce(max(version) FILTER (WHERE state = 'active'), 0)"
                               "  FROM colcrypt.key_versions WHERE keyring_id = $1 AND purpose = 'data'",
                               1, &id_type, &id, SPI_OK_SELECT);
    std::int32_t latest = result_int(0, 1);
    std::int32_t active = result_int(0, 2);
    if (expected_active > 0 && active != expected_active) {
        end_internal_access(&access);
        return 0;
    }
    std::int32_t version = latest + 1;
    std::uint8_t wrapped[core::kWrappedKeySize];
    new_wrapped_data_key(master, keyring.keyring_id, version, wrapped);

    // Demote first: under REPEATABLE READ a rotation that committed since the
    // snapshot makes this a serialization failure instead of a duplicate key.
    run_internal_query("UPDATE colcrypt.key_versions SET state = 'decrypt_only'"
                       " WHERE keyring_id = $1 AND purpose = 'data' AND state = 'active'",
                       1, args, SPI_OK_UPDATE);
    Oid types[] = {INT4OID, INT4OID, BYTEAOID, TEXTOID};
    Datum values[] = {Int32GetDatum(keyring.keyring_id), Int32GetDatum(version), bytea_param(wrapped, sizeof(wrapped)),
                      CStringGetTextDatum(master.fingerprint())};
    run_internal_query_typed("INSERT INTO colcrypt.key_versions"
                             " (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint)"
                             " VALUES ($1, 'data', $2, 'active', $3, $4)",
                             4, types, values, SPI_OK_INSERT);
    end_internal_access(&access);

    invalidate_key_caches();
    record_key_event(actor, operation, keyring.name, active, version, detail);
    return version;
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.rotate_key(keyring text) returns int: the new active version.
extern "C" Datum colcrypt_rotate_key(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    KeyEventActor actor = current_actor();
    PG_RETURN_INT32(rotate_data_key(name, 0, 0, actor, key_event::rotate, nullptr));
}

// colcrypt.retire_key(keyring text, version int): destroys the wrapped key
// of a version that is not active and that no stored value uses.
extern "C" Datum colcrypt_retire_key(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    int32 version = PG_GETARG_INT32(1);
    KeyEventActor actor = current_actor();

    InternalAccess access;
    begin_internal_access(&access);
    LockedKeyring keyring;
    lock_keyring(name, 0, true, &keyring);
    Oid types[] = {INT4OID, INT4OID};
    Datum values[] = {Int32GetDatum(keyring.keyring_id), Int32GetDatum(version)};
    run_internal_locking_query("SELECT state FROM colcrypt.key_versions"
                               " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
                               2, types, values, SPI_OK_SELECT);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("key version %d of keyring \"%s\" does not exist", version, keyring.name)));
    char state[16];
    result_text(0, 1, state, sizeof(state));
    if (strcmp(state, "active") == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("key version %d of keyring \"%s\" is the active version", version, keyring.name),
                        errhint("Rotate first with colcrypt.rotate_key('%s'), re-encrypt the values that use "
                                "version %d, then retire it.",
                                keyring.name, version)));
    if (strcmp(state, "retired") == 0) {
        end_internal_access(&access);
        ereport(NOTICE, (errmsg("key version %d of keyring \"%s\" is already retired", version, keyring.name)));
        PG_RETURN_VOID();
    }

    StringInfoData where;
    initStringInfo(&where);
    int64 in_use = count_values_using(keyring, version, &where);
    if (in_use > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("key version %d of keyring \"%s\" is still used by " INT64_FORMAT " value%s", version,
                               keyring.name, in_use, in_use == 1 ? "" : "s"),
                        errdetail("Values under version %d: %s.", version, where.data),
                        errhint("Re-encrypt them under the active version first, for example "
                                "UPDATE t SET c = c::text for each column listed.")));

    run_internal_query_typed("UPDATE colcrypt.key_versions SET state = 'retired', wrapped_key = NULL"
                             " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
                             2, types, values, SPI_OK_UPDATE);
    end_internal_access(&access);

    invalidate_key_caches();
    release_nonce_counter_at_commit((std::uint32_t) keyring.keyring_id, (std::uint32_t) version);
    record_key_event(actor, key_event::retire, keyring.name, version, 0, "wrapped key destroyed; no stored value used it");
    PG_RETURN_VOID();
}

// colcrypt.grant_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_grant_decrypt(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid role = PG_GETARG_OID(1);
    check_role(role);
    char *role_name = GetUserNameFromId(role, false);
    KeyEventActor actor = current_actor();
    char *grantor = GetUserNameFromId(actor.current_user, false);

    InternalAccess access;
    begin_internal_access(&access);
    LockedKeyring keyring;
    lock_keyring(name, 0, false, &keyring);
    Oid types[] = {INT4OID, OIDOID, TEXTOID};
    Datum values[] = {Int32GetDatum(keyring.keyring_id), ObjectIdGetDatum(role), CStringGetTextDatum(grantor)};
    run_internal_query_typed("INSERT INTO colcrypt.decrypt_grants (keyring_id, grantee, granted_by)"
                             " VALUES ($1, $2::pg_catalog.regrole, $3) ON CONFLICT DO NOTHING",
                             3, types, values, SPI_OK_INSERT);
    bool granted = SPI_processed > 0;
    end_internal_access(&access);
    if (!granted) {
        ereport(NOTICE, (errmsg("role \"%s\" may already decrypt keyring \"%s\"", role_name, keyring.name)));
        PG_RETURN_VOID();
    }
    invalidate_key_caches();
    record_key_event(actor, key_event::grant, keyring.name, 0, 0, psprintf("decryption granted to role \"%s\"", role_name));
    PG_RETURN_VOID();
}

// colcrypt.revoke_decrypt(keyring text, role regrole)
extern "C" Datum colcrypt_revoke_decrypt(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid role = PG_GETARG_OID(1);
    check_role(role);
    char *role_name = GetUserNameFromId(role, false);
    KeyEventActor actor = current_actor();

    InternalAccess access;
    begin_internal_access(&access);
    LockedKeyring keyring;
    lock_keyring(name, 0, false, &keyring);
    Oid types[] = {INT4OID, OIDOID};
    Datum values[] = {Int32GetDatum(keyring.keyring_id), ObjectIdGetDatum(role)};
    run_internal_query_typed("DELETE FROM colcrypt.decrypt_grants WHERE keyring_id = $1 AND grantee = $2::pg_catalog.regrole",
                             2, types, values, SPI_OK_DELETE);
    bool revoked = SPI_processed > 0;
    end_internal_access(&access);
    if (!revoked) {
        ereport(NOTICE, (errmsg("role \"%s\" holds no grant to decrypt keyring \"%s\"", role_name, keyring.name)));
        PG_RETURN_VOID();
    }
    invalidate_key_caches();
    record_key_event(actor, key_event::revoke, keyring.name, 0, 0, psprintf("decryption revoked from role \"%s\"", role_name));
    PG_RETURN_VOID();
}
