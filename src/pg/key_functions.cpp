// SQL-callable key management: creating keyrings.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/internal_access.hpp"
#include "colcrypt/pg/key_events.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/master_key_provider.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_create_key);
}

namespace colcrypt::pg {
namespace {

// Fresh random data and index keys for version 1 of a keyring, wrapped.
void new_wrapped_keys(core::MasterKey &master, std::uint32_t keyring_id,
                      std::uint8_t data_key[core::kWrappedKeySize], std::uint8_t index_key[core::kWrappedKeySize]) {
    cpp_guard([&] {
        master.wrap(keyring_id, core::KeyPurpose::data, 1, core::SecretKey::random(), data_key);
        master.wrap(keyring_id, core::KeyPurpose::index, 1, core::SecretKey::random(), index_key);
    });
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.create_key(keyring text, case_insensitive boolean) returns int: a
// new keyring with version 1 of its data key and of its blind-index key
// active.  Returns the version.
extern "C" Datum colcrypt_create_key(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    bool case_insensitive = PG_GETARG_BOOL(1);
    int32 typmod = keyring_typmod_for_name(name);
    colcrypt::core::MasterKey &master = master_key();
    KeyEventActor actor = current_actor();
    char *creator = GetUserNameFromId(actor.current_user, false);

    InternalAccess access;
    begin_internal_access(&access);
    // One creator at a time: ids are max + 1 and names must stay unique.
    run_internal_query("LOCK TABLE colcrypt.keyrings IN SHARE ROW EXCLUSIVE MODE", 0, nullptr, SPI_OK_UTILITY);
    run_internal_query("SELECT name FROM colcrypt.keyrings WHERE type_modifier = $1", 1, &typmod, SPI_OK_SELECT);
    if (SPI_processed > 0) {
        char existing[64];
        result_text(0, 1, existing, sizeof(existing));
        if (strcmp(existing, name) == 0)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("keyring \"%s\" already exists", name)));
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("keyring name \"%s\" collides with keyring \"%s\"", name, existing),
                        errdetail("Both names map to type modifier %d.", typmod),
                        errhint("Choose another name.")));
    }
    run_internal_query("SELECT coalesce(max(keyring_id), 0) + 1 FROM colcrypt.keyrings", 0, nullptr,
                       SPI_OK_SELECT);
    int32 keyring_id = result_int(0, 1);

    std::uint8_t data_key[colcrypt::core::kWrappedKeySize];
    std::uint8_t index_key[colcrypt::core::kWrappedKeySize];
    new_wrapped_keys(master, (std::uint32_t) keyring_id, data_key, index_key);

    Oid keyring_types[] = {INT4OID, TEXTOID, INT4OID, INT4OID, TEXTOID, BOOLOID};
    Datum keyring_values[] = {Int32GetDatum(keyring_id), CStringGetTextDatum(name), Int32GetDatum(typmod),
                              Int32GetDatum(guc_blind_index_bits), CStringGetTextDatum(creator),
                              BoolGetDatum(case_insensitive)};
    run_internal_query_typed("INSERT INTO colcrypt.keyrings"
                             " (keyring_id, name, type_modifier, index_term_bits, created_by, case_insensitive)"
                             " VALUES ($1, $2, $3, $4, $5, $6)",
                             6, keyring_types, keyring_values, SPI_OK_INSERT);
    Oid version_types[] = {INT4OID, BYTEAOID, BYTEAOID, TEXTOID};
    Datum version_values[] = {Int32GetDatum(keyring_id), bytea_param(data_key, sizeof(data_key)),
                              bytea_param(index_key, sizeof(index_key)), CStringGetTextDatum(master.fingerprint())};
    run_internal_query_typed("INSERT INTO colcrypt.key_versions"
                             " (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint)"
                             " VALUES ($1, 'data', 1, 'active', $2, $4), ($1, 'index', 1, 'active', $3, $4)",
                             4, version_types, version_values, SPI_OK_INSERT);
    // The creator may decrypt what the keyring protects.
    Oid grant_types[] = {INT4OID, OIDOID, TEXTOID};
    Datum grant_values[] = {Int32GetDatum(keyring_id), ObjectIdGetDatum(actor.current_user),
                            CStringGetTextDatum(creator)};
    run_internal_query_typed("INSERT INTO colcrypt.decrypt_grants (keyring_id, grantee, granted_by)"
                             " VALUES ($1, $2::pg_catalog.regrole, $3)",
                             3, grant_types, grant_values, SPI_OK_INSERT);
    end_internal_access(&access);

    invalidate_key_caches();
    record_key_event(actor, key_event::create, name, 0, 1,
                     psprintf("data and blind-index keys version 1, master key %s; decryption granted to role \"%s\"",
                              master.fingerprint(), creator));
    PG_RETURN_INT32(1);
}
