// Per-process cache of one keyring's unwrapped keys.

#include "colcrypt/core/keyring.hpp"

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

// Envelopes of a real keyring never carry key version 0 (see envelope.cpp),
// so a version-0 key could never be used: refuse it as a caller bug.
// Adding a version that is already present replaces its key; pointers
// returned earlier by data_key() for that version are then invalid.
void KeyringKeys::add_data_key(std::uint32_t version, const SecretKey &key) {
    if (version == 0) {
        throw Error(Errc::invalid_argument, "data key version must be at least 1");
    }
    data_keys_.insert_or_assign(version, std::make_unique<AesGcm>(key));
}

AesGcm *KeyringKeys::data_key(std::uint32_t version) noexcept {
    const auto it = data_keys_.find(version);
    return it == data_keys_.end() ? nullptr : it->second.get();
}

// Index-key versions start at 1 like data-key versions.  Adding a version
// that is present replaces its key (and invalidates pointers to it).
void KeyringKeys::add_index_key(std::uint32_t version, const SecretKey &key) {
    if (version == 0) {
        throw Error(Errc::invalid_argument, "index key version must be at least 1");
    }
    index_keys_.insert_or_assign(version, std::make_unique<BlindIndex>(key));
}

BlindIndex *KeyringKeys::index_key(std::uint32_t version) noexcept {
    const auto it = index_keys_.find(version);
    return it == index_keys_.end() ? nullptr : it->second.get();
}

}  // namespace colcrypt::core
