// Wrapping new keys and unwrapping stored ones with the server's master key.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

#include "colcrypt/core/error.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/key_wrapping.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"

namespace colcrypt::pg {

void wrap_fresh_key(core::MasterKey &master, std::uint32_t keyring_id, core::KeyPurpose purpose,
                    std::uint32_t version, std::uint8_t out[core::kWrappedKeySize]) {
    cpp_guard([&] { master.wrap(keyring_id, purpose, version, core::SecretKey::random(), out); });
}

void check_fingerprint(const char *keyring, const char *fingerprint) {
    const char *current = master_key().fingerprint();
    if (std::strcmp(fingerprint, current) != 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("master key does not match keyring \"%s\"", keyring),
                        errdetail("The keyring's keys were wrapped by master key %s; the server has master key %s.",
                                  fingerprint, current),
                        errhint("Start the server with the master key that created this keyring "
                                "(colcrypt.master_key_file or colcrypt.master_key_command).")));
}

bool unwrap_stored_key(core::KeyringKeys &keys, core::KeyPurpose purpose, std::uint32_t version,
                       const std::uint8_t *wrapped, std::size_t size) {
    core::MasterKey &master = master_key();
    std::optional<CaughtError> damaged =
        cpp_try({core::Errc::authentication_failed, core::Errc::malformed_value}, [&] {
            core::SecretKey key = master.unwrap(keys.keyring_id(), purpose, version, wrapped, size);
            if (purpose == core::KeyPurpose::data)
                keys.add_data_key(version, key);
            else
                keys.add_index_key(version, key);
        });
    return !damaged;
}

void report_damaged_key(const char *keyring, core::KeyPurpose purpose, std::uint32_t version) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("%s key version %u of keyring \"%s\" failed authentication",
                           purpose == core::KeyPurpose::data ? "data" : "index", version, keyring),
                    errdetail("The wrapped key in colcrypt.key_versions was altered or belongs to another keyring."),
                    errhint("Restore colcrypt.key_versions from a backup.")));
    pg_unreachable();
}

}  // namespace colcrypt::pg
