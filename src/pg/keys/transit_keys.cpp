// Transit keys per epoch.  See include/colcrypt/pg/keys/transit_keys.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <memory>
#include <unordered_map>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"
#include "colcrypt/pg/keys/transit_keys.hpp"

namespace colcrypt::pg {
namespace {

constexpr std::uint64_t kTransitEpochSeals = std::uint64_t{1} << 24;
constexpr std::size_t kMaxTransitKeys = 64;  // epochs kept for decryption

// Allocated once and never destroyed (no static destructors at exit).
using TransitKeys = std::unordered_map<std::uint32_t, std::unique_ptr<core::AesGcm>>;
TransitKeys *transit_keys = nullptr;
std::uint32_t current_epoch = 0;
core::AesGcm *current_key = nullptr;
std::uint64_t seals_in_epoch = 0;

// A fresh epoch below 2^28, so that it takes at most four varint bytes.
std::uint32_t new_epoch() {
    return cpp_guard([] {
        std::uint32_t epoch;
        core::random_bytes(reinterpret_cast<std::uint8_t *>(&epoch), sizeof epoch);
        return epoch & 0x0fffffffu;
    });
}

}  // namespace

core::AesGcm &transit_data_key(std::uint32_t epoch) {
    core::MasterKey &master = master_key();
    return *cpp_guard([&] {
        if (transit_keys == nullptr)
            transit_keys = new TransitKeys();
        auto it = transit_keys->find(epoch);
        if (it != transit_keys->end())
            return it->second.get();
        if (transit_keys->size() >= kMaxTransitKeys) {
            transit_keys->clear();
            current_key = nullptr;
        }
        auto aead = std::make_unique<core::AesGcm>(master.transit_key(epoch));
        core::AesGcm *raw = aead.get();
        (*transit_keys)[epoch] = std::move(aead);
        return raw;
    });
}

core::SealingKey transit_sealing_key() {
    if (current_key == nullptr || seals_in_epoch >= kTransitEpochSeals) {
        current_epoch = new_epoch();
        seals_in_epoch = 0;
        current_key = &transit_data_key(current_epoch);
    }
    seals_in_epoch++;
    return core::SealingKey{core::kTransitKeyringId, current_epoch, current_key, nullptr, core::TermPolicy()};
}

}  // namespace colcrypt::pg
