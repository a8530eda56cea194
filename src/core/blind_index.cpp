// Blind-index terms.

#include "colcrypt/core/blind_index.hpp"

#include <cstring>

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

// The type byte goes first, so values of different types whose bytes happen
// to be equal (a text and a bytea, say) get unrelated terms.
// The untruncated MAC reveals more than the stored term, so it is wiped.
void BlindIndex::term(ValueType type, const std::uint8_t *plaintext, std::size_t size,
                      std::size_t term_size, std::uint8_t *out) {
    if (term_size > kMaxTermSize) {
        throw Error(Errc::invalid_argument, "blind-index term size out of range");
    }
    if (term_size == 0) {
        return;
    }
    const std::uint8_t type_byte = static_cast<std::uint8_t>(type);
    std::uint8_t mac[kSha256Size];
    hmac_.compute(&type_byte, 1, plaintext, size, mac);
    std::memcpy(out, mac, term_size);
    secure_wipe(mac, sizeof mac);
}

}  // namespace colcrypt::core
