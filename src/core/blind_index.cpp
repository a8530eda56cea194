// Blind-index terms.

#include "colcrypt/core/blind_index.hpp"

#include <algorithm>
#include <cstring>

#include "colcrypt/core/canonical_form.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/cpp_only.hpp"
#include "colcrypt/core/secure.hpp"

namespace colcrypt::core {

namespace {

std::uint8_t fold(Normalization normalization, std::uint8_t byte) noexcept {
    if (normalization == Normalization::ascii_case_fold && byte >= 'A' && byte <= 'Z') {
        return static_cast<std::uint8_t>(byte - 'A' + 'a');
    }
    return byte;
}

}  // namespace

int compare_normalized(Normalization normalization, const std::uint8_t *a, std::size_t a_size,
                       const std::uint8_t *b, std::size_t b_size) noexcept {
    const std::size_t common = a_size < b_size ? a_size : b_size;
    if (normalization == Normalization::none) {
        const int c = common == 0 ? 0 : std::memcmp(a, b, common);
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
    } else {
        for (std::size_t i = 0; i < common; ++i) {
            const std::uint8_t x = fold(normalization, a[i]), y = fold(normalization, b[i]);
            if (x != y) {
                return x < y ? -1 : 1;
            }
        }
    }
    return a_size == b_size ? 0 : (a_size < b_size ? -1 : 1);
}

// The type byte goes first, so values of different types whose bytes happen
// to be equal (a text and a bytea, say) get unrelated terms.  Normalised
// plaintext is fed in stack-sized chunks: no allocation per value.
// The untruncated MAC reveals more than the stored term, so it is wiped.
std::int64_t term_index_key(const std::uint8_t *term, std::size_t size) noexcept {
    std::uint64_t key = 0;
    for (std::size_t i = 0; i < size && i < sizeof key; i++)
        key = (key << 8) | term[i];
    return static_cast<std::int64_t>(key);
}

void BlindIndex::term(ValueType type, const std::uint8_t *plaintext, std::size_t size,
                      std::size_t term_size, std::uint8_t *out, Normalization normalization) {
    if (term_size > kMaxTermSize) {
        throw Error(Errc::invalid_argument, "blind-index term size out of range");
    }
    if (term_size == 0) {
        return;
    }
    // Values equal under their type's `=` get one term (canonical_form.hpp).
    normalization = normalization_for(type, normalization);
    if (canonical_form_rewrites(type)) {
        std::vector<std::uint8_t> canonical;
        canonical_form(type, plaintext, size, canonical);
        mac_term(type, canonical.data(), canonical.size(), term_size, out, normalization);
        if (!canonical.empty()) {
            secure_wipe(canonical.data(), canonical.size());
        }
        return;
    }
    mac_term(type, plaintext, size, term_size, out, normalization);
}

void BlindIndex::mac_term(ValueType type, const std::uint8_t *plaintext, std::size_t size, std::size_t term_size,
                          std::uint8_t *out, Normalization normalization) {
    const std::uint8_t type_byte = static_cast<std::uint8_t>(type);
    std::uint8_t mac[kSha256Size];
    if (normalization == Normalization::none) {
        hmac_.compute(&type_byte, 1, plaintext, size, mac);
    } else {
        std::uint8_t chunk[256];
        hmac_.begin();
        hmac_.update(&type_byte, 1);
        for (std::size_t done = 0; done < size;) {
            const std::size_t n = std::min(sizeof chunk, size - done);
            for (std::size_t i = 0; i < n; ++i) {
                chunk[i] = fold(normalization, plaintext[done + i]);
            }
            hmac_.update(chunk, n);
            done += n;
        }
        hmac_.finish(mac);
        secure_wipe(chunk, sizeof chunk);
    }
    std::memcpy(out, mac, term_size);
    secure_wipe(mac, sizeof mac);
}

}  // namespace colcrypt::core
