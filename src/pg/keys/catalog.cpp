// Every SQL statement on colcrypt's own tables.  See
// include/colcrypt/pg/keys/catalog.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"

namespace colcrypt::pg::catalog {
namespace {

const char *purpose_name(core::KeyPurpose purpose) {
    return purpose == core::KeyPurpose::index ? "index" : "data";
}

// A scope of internal access: every function below is one.
class Access {
public:
    Access() { begin_internal_access(&access_); }
    void end() { end_internal_access(&access_); }

private:
    InternalAccess access_;
};

// %1$s: the index order, a column from 0.2.0 on (1 before: 0.1.0's order);
// %2$s: which index key is the order key; %3$s: which one the active data
// version is bound to (kKeyringColumns*).  i is the order key, s the
// sealing one.
constexpr const char *kKeyringQuery =
    "SELECT k.keyring_id, k.name, k.type_modifier, k.index_term_bits,"
    "       d.version, d.wrapped_key, d.master_key_fingerprint,"
    "       i.version, i.wrapped_key, i.master_key_fingerprint, k.case_insensitive, %1$s,"
    "       s.version, s.wrapped_key, s.master_key_fingerprint"
    "  FROM colcrypt.keyrings k"
    "  LEFT JOIN colcrypt.key_versions d ON d.keyring_id = k.keyring_id"
    "       AND d.purpose = 'data' AND d.state = 'active'"
    "  LEFT JOIN colcrypt.key_versions i ON i.keyring_id = k.keyring_id"
    "       AND i.purpose = 'index' AND %2$s"
    "  LEFT JOIN colcrypt.key_versions s ON s.keyring_id = k.keyring_id"
    "       AND s.purpose = 'index' AND %3$s";
// 0.1.0's SQL: one index key, the active one.
constexpr const char *kKeyringColumns010[] = {"1", "i.state = 'active'", "s.state = 'active' AND d.version IS NOT NULL"};
// A data row without index_version (a 0.1.0 dump restored) is bound to index key 1.
constexpr const char *kKeyringColumns020[] = {"k.index_order::int4", "i.version = k.order_index_version",
                                              "s.version = coalesce(d.index_version, 1) AND d.version IS NOT NULL"};

// The binding of a new data version: the keyring's active index key ($1 is
// the keyring).  Stored only from 0.2.0's SQL on (key_versions.index_version).
constexpr const char *kActiveIndexVersion =
    "(SELECT a.version FROM colcrypt.key_versions a WHERE a.keyring_id = $1 AND a.purpose = 'index'"
    "    AND a.state = 'active')";

void read_wrapped_key(WrappedKeyRow *row, int first_column) {
    row->present = !result_is_null(0, first_column);
    if (!row->present)
        return;
    row->version = (std::uint32_t) result_int(0, first_column);
    row->wrapped_size = result_bytes(0, first_column + 1, row->wrapped, sizeof(row->wrapped));
    result_text(0, first_column + 2, row->fingerprint, sizeof(row->fingerprint));
    strlcpy(row->state, "active", sizeof(row->state));
}

const char *keyring_column(KeyringBy by) {
    return by == KeyringBy::id ? "keyring_id" : "type_modifier";
}

}  // namespace

// The Access scopes below are plain objects without destructors: an ERROR
// inside one is cleaned up by transaction abort (internal_access.hpp).

void load_keyring(KeyringBy by, int32 key, KeyringRow *row) {
    std::memset(row, 0, sizeof(*row));
    Access access;
    const char *const *columns = extension_version_at_least(0, 2) ? kKeyringColumns020 : kKeyringColumns010;
    char *sql = psprintf(kKeyringQuery, columns[0], columns[1], columns[2]);
    sql = psprintf("%s WHERE k.%s = $1", sql, keyring_column(by));
    QueryArg arg = int4_arg(key);
    run_internal_current_query(sql, 1, &arg);
    if (result_rows() > 0) {
        row->found = true;
        row->keyring_id = (std::uint32_t) result_int(0, 1);
        result_text(0, 2, row->name, sizeof(row->name));
        row->typmod = result_int(0, 3);
        row->term_bits = result_int(0, 4);
        read_wrapped_key(&row->data, 5);
        read_wrapped_key(&row->index, 8);
        row->case_insensitive = result_bool(0, 11);
        row->index_order = result_int(0, 12);
        read_wrapped_key(&row->sealing_index, 13);
    }
    access.end();
}

int32 *data_versions_off_order_key(std::uint32_t keyring_id, int *count) {
    *count = 0;
    if (!extension_version_at_least(0, 2))
        return nullptr;
    Access access;
    QueryArg arg = int4_arg((int32) keyring_id);
    run_internal_current_query("SELECT v.version FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)"
                               " WHERE v.keyring_id = $1 AND v.purpose = 'data' AND v.state <> 'retired'"
                               "   AND coalesce(v.index_version, 1) <> k.order_index_version ORDER BY 1",
                               1, &arg);
    *count = (int) result_rows();
    auto *versions = (int32 *) SPI_palloc(sizeof(int32) * (*count + 1));
    for (int i = 0; i < *count; i++)
        versions[i] = result_int(i, 1);
    access.end();
    return versions;
}

void load_data_key(std::uint32_t keyring_id, std::uint32_t version, WrappedKeyRow *row) {
    std::memset(row, 0, sizeof(*row));
    Access access;
    QueryArg args[] = {int4_arg((int32) keyring_id), int4_arg((int32) version)};
    run_internal_current_query("SELECT version, wrapped_key, master_key_fingerprint, state FROM colcrypt.key_versions"
                               " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
                               2, args);
    if (result_rows() > 0) {
        row->present = true;
        row->version = (std::uint32_t) result_int(0, 1);
        row->wrapped_size = result_bytes(0, 2, row->wrapped, sizeof(row->wrapped));
        result_text(0, 3, row->fingerprint, sizeof(row->fingerprint));
        result_text(0, 4, row->state, sizeof(row->state));
    }
    access.end();
}

// Names are read without unwrapping anything, so that \d and pg_dump work
// on a server whose master key does not match (or is not loaded).
char *keyring_name(KeyringBy by, int32 key) {
    Access access;
    char *sql = psprintf("SELECT name FROM colcrypt.keyrings WHERE %s = $1", keyring_column(by));
    QueryArg arg = int4_arg(key);
    run_internal_query(sql, SPI_OK_SELECT, 1, &arg);
    char *name = result_rows() > 0 ? result_text_copy(0, 1) : nullptr;
    access.end();
    return name;
}

namespace {

const char *grants_table(bool encrypt) {
    return encrypt ? "colcrypt.encrypt_grants" : "colcrypt.decrypt_grants";
}

Oid *grantees(bool encrypt, std::uint32_t keyring_id, int *count) {
    Access access;
    QueryArg arg = int4_arg((int32) keyring_id);
    // The latest committed grants, as catalogs are read, whatever the
    // transaction's snapshot: a revoke that reaches a REPEATABLE READ
    // transaction must not be answered from its older snapshot and then
    // cached for the transactions after it.
    run_internal_current_query(
        psprintf("SELECT grantee::pg_catalog.oid FROM %s WHERE keyring_id = $1", grants_table(encrypt)), 1, &arg);
    *count = (int) result_rows();
    Oid *roles = (Oid *) SPI_palloc(sizeof(Oid) * (*count + 1));
    for (int i = 0; i < *count; i++)
        roles[i] = result_oid(i, 1);
    access.end();
    return roles;
}

// The rows of the query just run, in the column order keyring_id,
// purpose = 'index', version, wrapped_key, master_key_fingerprint, name;
// SPI_palloc'd, *count of them.
StoredKeyRow *stored_key_rows(long *count) {
    *count = (long) result_rows();
    auto *rows = (StoredKeyRow *) SPI_palloc(sizeof(StoredKeyRow) * (*count + 1));
    std::memset(rows, 0, sizeof(StoredKeyRow) * (*count + 1));
    for (long i = 0; i < *count; i++) {
        StoredKeyRow &row = rows[i];
        row.keyring_id = result_int(i, 1);
        row.purpose = result_bool(i, 2) ? core::KeyPurpose::index : core::KeyPurpose::data;
        row.version = result_int(i, 3);
        row.wrapped_size = result_bytes(i, 4, row.wrapped, sizeof(row.wrapped));
        result_text(i, 5, row.fingerprint, sizeof(row.fingerprint));
        result_text(i, 6, row.keyring, sizeof(row.keyring));
    }
    return rows;
}

bool insert_grant(bool encrypt, int32 keyring_id, Oid role, const char *granted_by) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), oid_arg(role), text_arg(granted_by)};
    run_internal_query(psprintf("INSERT INTO %s (keyring_id, grantee, granted_by)"
                                " VALUES ($1, $2::pg_catalog.regrole, $3) ON CONFLICT DO NOTHING",
                                grants_table(encrypt)),
                       SPI_OK_INSERT, 3, args);
    bool inserted = result_rows() > 0;
    access.end();
    return inserted;
}

bool delete_grant(bool encrypt, int32 keyring_id, Oid role) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), oid_arg(role)};
    run_internal_query(psprintf("DELETE FROM %s WHERE keyring_id = $1 AND grantee = $2::pg_catalog.regrole",
                                grants_table(encrypt)),
                       SPI_OK_DELETE, 2, args);
    bool deleted = result_rows() > 0;
    access.end();
    return deleted;
}

}  // namespace

Oid *decrypt_grantees(std::uint32_t keyring_id, int *count) {
    return grantees(false, keyring_id, count);
}

// 0.1.0 had no encrypt privilege: any role could encrypt, as with a grant
// to PUBLIC, which the update to 0.2.0 inserts for every keyring.
Oid *encrypt_grantees(std::uint32_t keyring_id, int *count) {
    if (!extension_version_at_least(0, 2)) {
        Oid *roles = (Oid *) palloc(sizeof(Oid));
        roles[0] = InvalidOid;
        *count = 1;
        return roles;
    }
    return grantees(true, keyring_id, count);
}

void lock_keyring(const char *name, int32 keyring_id, bool for_update, LockedKeyring *out) {
    Access access;
    char *sql = psprintf("SELECT keyring_id, name, type_modifier FROM colcrypt.keyrings WHERE %s = $1 FOR %s",
                         name ? "name" : "keyring_id", for_update ? "UPDATE" : "SHARE");
    QueryArg arg = name ? text_arg(name) : int4_arg(keyring_id);
    run_internal_locking_query(sql, SPI_OK_SELECT, 1, &arg);
    if (result_rows() == 0) {
        if (name)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring \"%s\" does not exist", name)));
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %d does not exist", keyring_id)));
    }
    out->keyring_id = result_int(0, 1);
    result_text(0, 2, out->name, sizeof(out->name));
    out->typmod = result_int(0, 3);
    access.end();
}

void lock_keyrings_for_create() {
    Access access;
    run_internal_query("LOCK TABLE colcrypt.keyrings IN SHARE ROW EXCLUSIVE MODE", SPI_OK_UTILITY);
    access.end();
}

char *keyring_name_for_create(int32 typmod) {
    Access access;
    QueryArg arg = int4_arg(typmod);
    run_internal_locking_query("SELECT name FROM colcrypt.keyrings WHERE type_modifier = $1", SPI_OK_SELECT, 1,
                               &arg);
    char *name = result_rows() > 0 ? result_text_copy(0, 1) : nullptr;
    access.end();
    return name;
}

int32 next_keyring_id() {
    Access access;
    run_internal_locking_query("SELECT coalesce(max(keyring_id), 0) + 1 FROM colcrypt.keyrings", SPI_OK_SELECT);
    int32 id = result_int(0, 1);
    access.end();
    return id;
}

void insert_keyring(int32 keyring_id, const char *name, int32 typmod, int term_bits, bool case_insensitive,
                    const char *created_by) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(name),       int4_arg(typmod),
                       int4_arg(term_bits),  text_arg(created_by), QueryArg{BOOLOID, BoolGetDatum(case_insensitive)}};
    run_internal_query("INSERT INTO colcrypt.keyrings"
                       " (keyring_id, name, type_modifier, index_term_bits, created_by, case_insensitive)"
                       " VALUES ($1, $2, $3, $4, $5, $6)",
                       SPI_OK_INSERT, 6, args);
    access.end();
}

void insert_key_version(int32 keyring_id, core::KeyPurpose purpose, int32 version,
                        const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(purpose_name(purpose)), int4_arg(version),
                       bytea_arg(wrapped, core::kWrappedKeySize), text_arg(fingerprint)};
    if (extension_version_at_least(0, 2))
        run_internal_query(psprintf("INSERT INTO colcrypt.key_versions"
                                    " (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint,"
                                    "  index_version)"
                                    " VALUES ($1, $2, $3, 'active', $4, $5, CASE WHEN $2 = 'data' THEN %s END)",
                                    kActiveIndexVersion),
                           SPI_OK_INSERT, 5, args);
    else
        run_internal_query("INSERT INTO colcrypt.key_versions"
                           " (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint)"
                           " VALUES ($1, $2, $3, 'active', $4, $5)",
                           SPI_OK_INSERT, 5, args);
    access.end();
}

DataKeyVersions data_key_versions(int32 keyring_id) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query(
        "SELECT coalesce(max(version), 0), coalesce(max(version) FILTER (WHERE state = 'active'), 0)"
        "  FROM colcrypt.key_versions WHERE keyring_id = $1 AND purpose = 'data'",
        SPI_OK_SELECT, 1, &arg);
    DataKeyVersions versions{result_int(0, 1), result_int(0, 2)};
    access.end();
    return versions;
}

ActiveDataKey *active_data_keys(int *count) {
    Access access;
    run_internal_query("SELECT keyring_id, version FROM colcrypt.key_versions"
                       " WHERE purpose = 'data' AND state = 'active' ORDER BY keyring_id",
                       SPI_OK_SELECT);
    *count = (int) result_rows();
    auto *keys = (ActiveDataKey *) SPI_palloc(sizeof(ActiveDataKey) * (*count + 1));
    for (int i = 0; i < *count; i++)
        keys[i] = ActiveDataKey{result_int(i, 1), result_int(i, 2)};
    access.end();
    return keys;
}

void demote_active_data_key(int32 keyring_id) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_query("UPDATE colcrypt.key_versions SET state = 'decrypt_only'"
                       " WHERE keyring_id = $1 AND purpose = 'data' AND state = 'active'",
                       SPI_OK_UPDATE, 1, &arg);
    access.end();
}

bool data_key_state(int32 keyring_id, int32 version, char *state, std::size_t state_size) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(version)};
    run_internal_locking_query("SELECT state FROM colcrypt.key_versions"
                               " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
                               SPI_OK_SELECT, 2, args);
    bool found = result_rows() > 0;
    if (found)
        result_text(0, 1, state, state_size);
    access.end();
    return found;
}

void retire_data_key(int32 keyring_id, int32 version) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(version)};
    run_internal_query("UPDATE colcrypt.key_versions SET state = 'retired', wrapped_key = NULL"
                       " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
                       SPI_OK_UPDATE, 2, args);
    access.end();
}

int32 active_index_version(int32 keyring_id) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query(psprintf("SELECT coalesce(%s, 0)", kActiveIndexVersion), SPI_OK_SELECT, 1, &arg);
    int32 version = result_int(0, 1);
    access.end();
    return version;
}

int32 order_index_version(int32 keyring_id) {
    if (!extension_version_at_least(0, 2))
        return active_index_version(keyring_id);
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query("SELECT order_index_version FROM colcrypt.keyrings WHERE keyring_id = $1",
                               SPI_OK_SELECT, 1, &arg);
    int32 version = result_rows() > 0 ? result_int(0, 1) : 0;
    access.end();
    return version;
}

void set_order_index_version(int32 keyring_id, int32 index_version) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(index_version)};
    run_internal_query("UPDATE colcrypt.keyrings SET order_index_version = $2 WHERE keyring_id = $1", SPI_OK_UPDATE, 2,
                       args);
    access.end();
}

void demote_active_index_key(int32 keyring_id) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_query("UPDATE colcrypt.key_versions SET state = 'decrypt_only'"
                       " WHERE keyring_id = $1 AND purpose = 'index' AND state = 'active'",
                       SPI_OK_UPDATE, 1, &arg);
    access.end();
}

namespace {

int32 *versions_of_result(int *count) {
    *count = (int) result_rows();
    auto *versions = (int32 *) SPI_palloc(sizeof(int32) * (*count + 1));
    for (int i = 0; i < *count; i++)
        versions[i] = result_int(i, 1);
    return versions;
}

}  // namespace

int32 *data_versions_bound_to(int32 keyring_id, int32 index_version, int *count) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(index_version)};
    run_internal_locking_query("SELECT version FROM colcrypt.key_versions WHERE keyring_id = $1 AND purpose = 'data'"
                               "   AND state <> 'retired' AND coalesce(index_version, 1) = $2 ORDER BY 1",
                               SPI_OK_SELECT, 2, args);
    int32 *versions = versions_of_result(count);
    access.end();
    return versions;
}

int32 *retire_unbound_index_keys(int32 keyring_id, int *count) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_query("UPDATE colcrypt.key_versions i SET state = 'retired', wrapped_key = NULL"
                       " WHERE i.keyring_id = $1 AND i.purpose = 'index' AND i.state = 'decrypt_only'"
                       "   AND i.version <> (SELECT order_index_version FROM colcrypt.keyrings WHERE keyring_id = $1)"
                       "   AND NOT EXISTS (SELECT FROM colcrypt.key_versions d WHERE d.keyring_id = $1"
                       "                      AND d.purpose = 'data' AND d.state <> 'retired'"
                       "                      AND coalesce(d.index_version, 1) = i.version)"
                       " RETURNING i.version",
                       SPI_OK_UPDATE_RETURNING, 1, &arg);
    int32 *versions = versions_of_result(count);
    access.end();
    return versions;
}

void set_index_order(int32 keyring_id, int index_order) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(index_order)};
    run_internal_query("UPDATE colcrypt.keyrings SET index_order = $2 WHERE keyring_id = $1", SPI_OK_UPDATE, 2,
                       args);
    access.end();
}

int index_order(int32 keyring_id) {
    if (!extension_version_at_least(0, 2))
        return 1;
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query("SELECT index_order::int4 FROM colcrypt.keyrings WHERE keyring_id = $1",
                               SPI_OK_SELECT, 1, &arg);
    int order = result_rows() > 0 ? result_int(0, 1) : 1;
    access.end();
    return order;
}

bool insert_decrypt_grant(int32 keyring_id, Oid role, const char *granted_by) {
    return insert_grant(false, keyring_id, role, granted_by);
}

bool delete_decrypt_grant(int32 keyring_id, Oid role) {
    return delete_grant(false, keyring_id, role);
}

bool insert_encrypt_grant(int32 keyring_id, Oid role, const char *granted_by) {
    if (!extension_version_at_least(0, 2))
        return false;  // no table yet: 0.1.0 lets every role encrypt
    return insert_grant(true, keyring_id, role, granted_by);
}

bool delete_encrypt_grant(int32 keyring_id, Oid role) {
    return delete_grant(true, keyring_id, role);
}

void lock_key_versions() {
    Access access;
    run_internal_query("LOCK TABLE colcrypt.key_versions IN EXCLUSIVE MODE", SPI_OK_UTILITY);
    access.end();
}

StoredKeyRow *stored_keys(long *count) {
    Access access;
    run_internal_locking_query("SELECT v.keyring_id, v.purpose = 'index', v.version, v.wrapped_key,"
                               "       v.master_key_fingerprint, k.name"
                               "  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)"
                               " WHERE v.wrapped_key IS NOT NULL"
                               " ORDER BY k.name, v.purpose, v.version",
                               SPI_OK_SELECT);
    StoredKeyRow *rows = stored_key_rows(count);
    access.end();
    return rows;
}

void update_wrapped_key(int32 keyring_id, core::KeyPurpose purpose, int32 version,
                        const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(purpose_name(purpose)), int4_arg(version),
                       bytea_arg(wrapped, core::kWrappedKeySize), text_arg(fingerprint)};
    run_internal_query("UPDATE colcrypt.key_versions SET wrapped_key = $4, master_key_fingerprint = $5"
                       " WHERE keyring_id = $1 AND purpose = $2 AND version = $3",
                       SPI_OK_UPDATE, 5, args);
    access.end();
}

void insert_key_event(const char *session_user, const char *current_user, const char *operation,
                      const char *keyring, int32 old_version, int32 new_version, const char *detail) {
    Access access;
    QueryArg args[] = {text_arg(session_user),
                       text_arg(current_user),
                       text_arg(operation),
                       text_arg(keyring),
                       QueryArg{INT4OID, Int32GetDatum(old_version), old_version <= 0},
                       QueryArg{INT4OID, Int32GetDatum(new_version), new_version <= 0},
                       text_arg(detail)};
    run_internal_query("INSERT INTO colcrypt.key_events"
                       " (session_user_name, current_user_name, operation, keyring,"
                       "  old_version, new_version, detail)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       SPI_OK_INSERT, 7, args);
    access.end();
}

// ---------------------------------------------------------------------------
// Keyring transfer.
// ---------------------------------------------------------------------------

namespace {

constexpr const char *kIdentityColumns =
    "keyring_id, name, type_modifier, decode(replace(keyring_uuid::text, '-', ''), 'hex'), index_term_bits,"
    " case_insensitive, index_order::int4, version_start, version_end";

void read_identity(std::uint64_t row, KeyringIdentity *out) {
    std::memset(out, 0, sizeof(*out));
    out->keyring_id = result_int(row, 1);
    result_text(row, 2, out->name, sizeof(out->name));
    out->typmod = result_int(row, 3);
    (void) result_bytes(row, 4, out->uuid, sizeof(out->uuid));
    out->term_bits = result_int(row, 5);
    out->case_insensitive = result_bool(row, 6);
    out->index_order = result_int(row, 7);
    out->version_start = result_int(row, 8);
    out->version_end = result_int(row, 9);
}

}  // namespace

void keyring_identity(int32 keyring_id, KeyringIdentity *out) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query(psprintf("SELECT %s FROM colcrypt.keyrings WHERE keyring_id = $1", kIdentityColumns),
                               SPI_OK_SELECT, 1, &arg);
    if (result_rows() == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %d does not exist", keyring_id)));
    read_identity(0, out);
    access.end();
}

KeyringIdentity *keyrings_matching(int32 keyring_id, const char *name, int32 typmod,
                                   const std::uint8_t uuid[kUuidSize], int *count) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(name), int4_arg(typmod), bytea_arg(uuid, kUuidSize)};
    run_internal_locking_query(
        psprintf("SELECT %s FROM colcrypt.keyrings WHERE keyring_id = $1 OR name = $2 OR type_modifier = $3"
                 " OR keyring_uuid = encode($4, 'hex')::uuid ORDER BY keyring_id",
                 kIdentityColumns),
        SPI_OK_SELECT, 4, args);
    *count = (int) result_rows();
    auto *rows = (KeyringIdentity *) SPI_palloc(sizeof(KeyringIdentity) * (*count + 1));
    for (int i = 0; i < *count; i++)
        read_identity(i, &rows[i]);
    access.end();
    return rows;
}

void insert_imported_keyring(const KeyringIdentity &keyring, const char *created_by) {
    Access access;
    QueryArg args[] = {int4_arg(keyring.keyring_id),
                       text_arg(keyring.name),
                       int4_arg(keyring.typmod),
                       int4_arg(keyring.term_bits),
                       text_arg(created_by),
                       QueryArg{BOOLOID, BoolGetDatum(keyring.case_insensitive)},
                       int4_arg(keyring.index_order),
                       bytea_arg(keyring.uuid, kUuidSize),
                       int4_arg(keyring.version_start),
                       int4_arg(keyring.version_end)};
    run_internal_query("INSERT INTO colcrypt.keyrings"
                       " (keyring_id, name, type_modifier, index_term_bits, created_by, case_insensitive,"
                       "  index_order, keyring_uuid, version_start, version_end)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, encode($8, 'hex')::uuid, $9, $10)",
                       SPI_OK_INSERT, 10, args);
    access.end();
}

void set_version_end(int32 keyring_id, int32 version_end) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(version_end)};
    run_internal_query("UPDATE colcrypt.keyrings SET version_end = $2 WHERE keyring_id = $1", SPI_OK_UPDATE, 2, args);
    access.end();
}

int32 latest_data_version_in(int32 keyring_id, int32 start, int32 end) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), int4_arg(start), int4_arg(end)};
    run_internal_locking_query("SELECT coalesce(max(version), 0) FROM colcrypt.key_versions"
                               " WHERE keyring_id = $1 AND purpose = 'data' AND version >= $2 AND version < $3",
                               SPI_OK_SELECT, 3, args);
    int32 latest = result_int(0, 1);
    access.end();
    return latest;
}

bool key_version_exists(int32 keyring_id, core::KeyPurpose purpose, int32 version) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(purpose_name(purpose)), int4_arg(version)};
    run_internal_locking_query("SELECT 1 FROM colcrypt.key_versions WHERE keyring_id = $1 AND purpose = $2"
                               " AND version = $3",
                               SPI_OK_SELECT, 3, args);
    bool exists = result_rows() > 0;
    access.end();
    return exists;
}

void insert_key_version_in_state(int32 keyring_id, core::KeyPurpose purpose, int32 version, const char *state,
                                 const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint) {
    Access access;
    QueryArg args[] = {int4_arg(keyring_id), text_arg(purpose_name(purpose)), int4_arg(version), text_arg(state),
                       bytea_arg(wrapped, core::kWrappedKeySize), text_arg(fingerprint)};
    // Only 0.2.0 transfers keyrings: its index_version column is there.
    run_internal_query(psprintf("INSERT INTO colcrypt.key_versions"
                                " (keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint,"
                                "  index_version)"
                                " VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $2 = 'data' THEN %s END)",
                                kActiveIndexVersion),
                       SPI_OK_INSERT, 6, args);
    access.end();
}

StoredKeyRow *transferable_keys(int32 keyring_id, long *count) {
    Access access;
    QueryArg arg = int4_arg(keyring_id);
    run_internal_locking_query("SELECT v.keyring_id, v.purpose = 'index', v.version, v.wrapped_key,"
                               "       v.master_key_fingerprint, k.name"
                               "  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)"
                               " WHERE v.keyring_id = $1 AND v.wrapped_key IS NOT NULL"
                               "   AND (v.purpose = 'data' OR v.state = 'active')"
                               " ORDER BY v.purpose, v.version",
                               SPI_OK_SELECT, 1, &arg);
    StoredKeyRow *rows = stored_key_rows(count);
    access.end();
    return rows;
}

void insert_transfer_request(const std::uint8_t transfer_id[core::kTransferIdSize], const std::uint8_t public_key[32],
                             const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint,
                             const char *created_by) {
    Access access;
    QueryArg args[] = {bytea_arg(transfer_id, core::kTransferIdSize), bytea_arg(public_key, 32),
                       bytea_arg(wrapped, core::kWrappedKeySize), text_arg(fingerprint), text_arg(created_by)};
    run_internal_query("INSERT INTO colcrypt.transfer_requests"
                       " (transfer_id, public_key, wrapped_private_key, master_key_fingerprint, created_by)"
                       " VALUES ($1, $2, $3, $4, $5)",
                       SPI_OK_INSERT, 5, args);
    access.end();
}

void lock_transfer_request(const std::uint8_t transfer_id[core::kTransferIdSize], TransferRequestRow *out) {
    std::memset(out, 0, sizeof(*out));
    Access access;
    QueryArg arg = bytea_arg(transfer_id, core::kTransferIdSize);
    run_internal_locking_query("SELECT public_key, wrapped_private_key, master_key_fingerprint, used_at IS NOT NULL,"
                               "       imported_keyring"
                               "  FROM colcrypt.transfer_requests WHERE transfer_id = $1 FOR UPDATE",
                               SPI_OK_SELECT, 1, &arg);
    if (result_rows() > 0) {
        out->found = true;
        (void) result_bytes(0, 1, out->public_key, sizeof(out->public_key));
        out->wrapped_size = result_bytes(0, 2, out->wrapped, sizeof(out->wrapped));
        result_text(0, 3, out->fingerprint, sizeof(out->fingerprint));
        out->used = result_bool(0, 4);
        result_text(0, 5, out->imported_keyring, sizeof(out->imported_keyring));
    }
    access.end();
}

void mark_transfer_request_used(const std::uint8_t transfer_id[core::kTransferIdSize], const char *keyring) {
    Access access;
    QueryArg args[] = {bytea_arg(transfer_id, core::kTransferIdSize), text_arg(keyring)};
    run_internal_query("UPDATE colcrypt.transfer_requests"
                       "   SET wrapped_private_key = NULL, used_at = now(), imported_keyring = $2"
                       " WHERE transfer_id = $1",
                       SPI_OK_UPDATE, 2, args);
    access.end();
}

}  // namespace colcrypt::pg::catalog
