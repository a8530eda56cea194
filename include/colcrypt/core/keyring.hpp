// The unwrapped keys of one keyring that this process has needed so far:
// an AEAD per data-key version and the blind-index key.  Built from keys the
// caller unwrapped; owns the OpenSSL contexts, so each key schedule is set up
// once per process, not once per value.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/crypto.hpp"

namespace colcrypt::core {

class KeyringKeys {
public:
    explicit KeyringKeys(std::uint32_t keyring_id) : keyring_id_(keyring_id) {}

    std::uint32_t keyring_id() const noexcept { return keyring_id_; }

    void add_data_key(std::uint32_t version, const SecretKey &key);
    // nullptr when that version has not been added.
    AesGcm *data_key(std::uint32_t version) noexcept;

    void set_index_key(const SecretKey &key);
    // nullptr when no index key was set.
    BlindIndex *index_key() noexcept { return index_.get(); }

private:
    std::uint32_t keyring_id_;
    std::map<std::uint32_t, std::unique_ptr<AesGcm>> data_keys_;
    std::unique_ptr<BlindIndex> index_;
};

}  // namespace colcrypt::core
