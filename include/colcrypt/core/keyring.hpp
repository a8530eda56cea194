// The unwrapped keys of one keyring that this process has needed so far:
// an AEAD per data-key version and a blind-index key per index-key version
// (two during a blind-index key rotation: the order key and the new one).  Built from keys the
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

    void add_index_key(std::uint32_t version, const SecretKey &key);
    // nullptr when that version has not been added.
    BlindIndex *index_key(std::uint32_t version) noexcept;

private:
    std::uint32_t keyring_id_;
    std::map<std::uint32_t, std::unique_ptr<AesGcm>> data_keys_;
    std::map<std::uint32_t, std::unique_ptr<BlindIndex>> index_keys_;
};

}  // namespace colcrypt::core
