// Every SQL statement colcrypt runs on its own tables: colcrypt.keyrings,
// colcrypt.key_versions, colcrypt.decrypt_grants, colcrypt.encrypt_grants,
// colcrypt.key_events and colcrypt.transfer_requests.
// Nothing else in the PostgreSQL layer reads or writes them.
//
// Each function runs as the tables' owner (internal_access.hpp) and returns
// plain data (no destructors), so PostgreSQL code may fill it and ereport.
// Locks taken here last until the transaction ends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/keyring_name.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg::catalog {

// ---------------------------------------------------------------------------
// Reading keyrings and their wrapped keys.
// ---------------------------------------------------------------------------

struct WrappedKeyRow {
    bool present;
    std::uint32_t version;
    char state[16];  // active, decrypt_only or retired
    std::uint8_t wrapped[core::kWrappedKeySize];
    std::size_t wrapped_size;  // 0 when retired (the key is destroyed)
    char fingerprint[core::kFingerprintHexSize + 1];
};

struct KeyringRow {
    bool found;
    std::uint32_t keyring_id;
    int32 typmod;
    int term_bits;
    bool case_insensitive;
    int index_order;  // 1 where the database is still at 0.1.0's SQL
    char name[core::kMaxKeyringNameSize + 1];
    WrappedKeyRow data;   // the active data key
    // The order key (keyrings.order_index_version, docs/design/reencryption.md
    // section 7): the blind-index key comparisons order by.  0.1.0's SQL: the
    // active (only) index key.
    WrappedKeyRow index;
    // The index key the active data version is bound to, which sealing
    // computes terms with: the order key except during a blind-index key
    // rotation.  Not present when there is no active data version.
    WrappedKeyRow sealing_index;
};

enum class KeyringBy { id, type_modifier };

// A keyring with its active data and index keys; row->found is false when
// there is none.
void load_keyring(KeyringBy by, int32 key, KeyringRow *row);

// One data-key version of a keyring (row->present false when there is none).
void load_data_key(std::uint32_t keyring_id, std::uint32_t version, WrappedKeyRow *row);

// The data versions of a keyring, not retired, whose values carry terms of
// another index key than its order key (a blind-index key rotation under
// way), palloc'd; *count of them (0 outside a rotation, and under 0.1.0's SQL).
int32 *data_versions_off_order_key(std::uint32_t keyring_id, int *count);

// A keyring's name, palloc'd; nullptr when there is none.
char *keyring_name(KeyringBy by, int32 key);

// The roles granted decryption of a keyring, palloc'd; *count of them.
Oid *decrypt_grantees(std::uint32_t keyring_id, int *count);
// The same for colcrypt.encrypt_grants; InvalidOid stands for PUBLIC.
Oid *encrypt_grantees(std::uint32_t keyring_id, int *count);

// ---------------------------------------------------------------------------
// Key administration.  Reads after a lock see what committed while it waited.
// ---------------------------------------------------------------------------

struct LockedKeyring {
    int32 keyring_id;
    int32 typmod;
    char name[NAMEDATALEN];
};

// Lock a keyring's row, found by name (or by id when name is nullptr):
// FOR UPDATE serializes operations that change its versions, FOR SHARE only
// keeps it from changing underneath.  ERROR when there is no such keyring.
void lock_keyring(const char *name, int32 keyring_id, bool for_update, LockedKeyring *out);

// Keep other creators out until commit (ids are max + 1, names unique).
void lock_keyrings_for_create();
// The name of the keyring with this type modifier, palloc'd; nullptr if none.
char *keyring_name_for_create(int32 typmod);
int32 next_keyring_id();
void insert_keyring(int32 keyring_id, const char *name, int32 typmod, int term_bits, bool case_insensitive,
                    const char *created_by);

// A new active key version, wrapped by the master key with fingerprint.  A
// data version is bound to the keyring's active index key (0.2.0).
void insert_key_version(int32 keyring_id, core::KeyPurpose purpose, int32 version,
                        const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint);

struct DataKeyVersions {
    int32 latest;  // highest version ever made (0: none)
    int32 active;  // the active one (0: none)
};
DataKeyVersions data_key_versions(int32 keyring_id);
// Every keyring's active data-key version, palloc'd; *count of them.
struct ActiveDataKey {
    int32 keyring_id;
    int32 version;
};
ActiveDataKey *active_data_keys(int *count);
// The active data key becomes decrypt_only.
void demote_active_data_key(int32 keyring_id);
// The state of a data-key version into state; false when it does not exist.
bool data_key_state(int32 keyring_id, int32 version, char *state, std::size_t state_size);
// Destroy a data-key version's wrapped key.
void retire_data_key(int32 keyring_id, int32 version);

// Blind-index keys (docs/design/reencryption.md, sections 1 and 7; 0.2.0's
// columns key_versions.index_version and keyrings.order_index_version).
// The active index key's version (0: none).
int32 active_index_version(int32 keyring_id);
// The keyring's order key.
int32 order_index_version(int32 keyring_id);
void set_order_index_version(int32 keyring_id, int32 index_version);
// The active index key becomes decrypt_only.
void demote_active_index_key(int32 keyring_id);
// The data versions, not retired, bound to an index key, palloc'd; *count.
int32 *data_versions_bound_to(int32 keyring_id, int32 index_version, int *count);
// Destroy every index key that is neither the order key nor the active one
// and that no data version, not retired, is bound to; the versions
// destroyed, palloc'd, *count of them.
int32 *retire_unbound_index_keys(int32 keyring_id, int *count);

// Set a keyring's index order (0.2.0's column).
void set_index_order(int32 keyring_id, int index_order);
// The index order a keyring's row says (1 when the column does not exist).
int index_order(int32 keyring_id);

// False when the role held the grant already / did not hold it.
bool insert_decrypt_grant(int32 keyring_id, Oid role, const char *granted_by);
bool delete_decrypt_grant(int32 keyring_id, Oid role);
bool insert_encrypt_grant(int32 keyring_id, Oid role, const char *granted_by);
bool delete_encrypt_grant(int32 keyring_id, Oid role);

// Master key rotation: every wrapped key, with its keyring's name.
struct StoredKeyRow {
    int32 keyring_id;
    core::KeyPurpose purpose;
    int32 version;
    std::uint8_t wrapped[core::kWrappedKeySize];
    std::size_t wrapped_size;
    char fingerprint[core::kFingerprintHexSize + 1];
    char keyring[NAMEDATALEN];
};
// Keeps key creation, rotation and retirement out until commit; readers
// are not blocked.
void lock_key_versions();
// Every key that is not retired, palloc'd; *count of them.
StoredKeyRow *stored_keys(long *count);
void update_wrapped_key(int32 keyring_id, core::KeyPurpose purpose, int32 version,
                        const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint);

// ---------------------------------------------------------------------------
// The audit trail.
// ---------------------------------------------------------------------------

// keyring and detail may be nullptr; versions <= 0 are stored as NULL.
void insert_key_event(const char *session_user, const char *current_user, const char *operation,
                      const char *keyring, int32 old_version, int32 new_version, const char *detail);

// ---------------------------------------------------------------------------
// Keyring transfer (0.2.0, docs/design/keyring-transfer.md).
// ---------------------------------------------------------------------------

constexpr std::size_t kUuidSize = 16;

// A keyring's identity and settings as a transfer needs them.
struct KeyringIdentity {
    int32 keyring_id;
    char name[NAMEDATALEN];
    int32 typmod;
    std::uint8_t uuid[kUuidSize];
    int term_bits;
    bool case_insensitive;
    int index_order;
    int32 version_start;  // the versions this database may make: [start, end)
    int32 version_end;
};

// The identity of a locked keyring (lock_keyring first).
void keyring_identity(int32 keyring_id, KeyringIdentity *out);
// Keyrings that have this id, name, type modifier or uuid, palloc'd; *count
// of them (at most 4).  Call lock_keyrings_for_create first.
KeyringIdentity *keyrings_matching(int32 keyring_id, const char *name, int32 typmod,
                                   const std::uint8_t uuid[kUuidSize], int *count);
// A keyring that another cluster made, with its identity and the version
// range the bundle reserved for this database.
void insert_imported_keyring(const KeyringIdentity &keyring, const char *created_by);
// Lower the end of the versions this database may make for a keyring.
void set_version_end(int32 keyring_id, int32 version_end);
// The highest data-key version in [start, end) (0: none).
int32 latest_data_version_in(int32 keyring_id, int32 start, int32 end);
// Whether a key version exists (in any state).
bool key_version_exists(int32 keyring_id, core::KeyPurpose purpose, int32 version);
// A key version in the given state (active or decrypt_only); a data
// version is bound to the keyring's active index key (0.2.0).
void insert_key_version_in_state(int32 keyring_id, core::KeyPurpose purpose, int32 version, const char *state,
                                 const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint);
// The keys of one keyring that a transfer carries: every data key that is
// not retired and the active index key, palloc'd; *count of them.
StoredKeyRow *transferable_keys(int32 keyring_id, long *count);

struct TransferRequestRow {
    bool found;
    bool used;
    std::uint8_t public_key[32];
    std::uint8_t wrapped[core::kWrappedKeySize];
    std::size_t wrapped_size;
    char fingerprint[core::kFingerprintHexSize + 1];
    char imported_keyring[NAMEDATALEN];
};
void insert_transfer_request(const std::uint8_t transfer_id[core::kTransferIdSize], const std::uint8_t public_key[32],
                             const std::uint8_t wrapped[core::kWrappedKeySize], const char *fingerprint,
                             const char *created_by);
// Lock a request's row (FOR UPDATE, so one bundle is imported once).
void lock_transfer_request(const std::uint8_t transfer_id[core::kTransferIdSize], TransferRequestRow *out);
// Destroy a request's private key: it has been used.
void mark_transfer_request_used(const std::uint8_t transfer_id[core::kTransferIdSize], const char *keyring);

}  // namespace colcrypt::pg::catalog
