// Strict base64 for the master key text and the envelope text form.
//
// OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock do the arithmetic; this file
// adds what they lack: no NUL written past the encoded text, no silently
// skipped white space, and padding bytes not counted as data.

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core::detail {

namespace {

// EVP_*Block take int lengths: work in chunks well below INT_MAX that keep
// whole base64 groups (3 bytes <-> 4 characters).
constexpr std::size_t kEncodeChunk = std::size_t{3} << 28;
constexpr std::size_t kDecodeChunk = std::size_t{4} << 28;

// Value of a base64 alphabet character, or -1 (this includes '=' and white space).
int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

// EVP_EncodeBlock NUL-terminates.  The bulk is encoded in place (its NUL lands
// on the first character of the final group, overwritten next) and the final
// group goes through a small buffer, so out needs no room for a terminator.
void base64_encode(const std::uint8_t *data, std::size_t size, char *out) noexcept {
    if (size == 0) {
        return;
    }
    const std::size_t tail = size % 3 == 0 ? 3 : size % 3;
    std::size_t bulk = size - tail;
    while (bulk > 0) {
        const std::size_t chunk = std::min(bulk, kEncodeChunk);
        EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out), data, static_cast<int>(chunk));
        data += chunk;
        out += chunk / 3 * 4;
        bulk -= chunk;
    }
    unsigned char last[5];
    EVP_EncodeBlock(last, data, static_cast<int>(tail));
    std::memcpy(out, last, 4);
}

// Validate everything first (EVP_DecodeBlock would skip white space and
// count padding as data), then let OpenSSL decode.
bool base64_decode(const char *text, std::size_t size, std::uint8_t *out,
                   std::size_t *decoded_size) noexcept {
    if (size % 4 != 0) {
        return false;
    }
    if (size == 0) {
        *decoded_size = 0;
        return true;
    }
    std::size_t padding = 0;
    if (text[size - 1] == '=') {
        padding = text[size - 2] == '=' ? 2 : 1;
    }
    const std::size_t data_chars = size - padding;
    for (std::size_t i = 0; i < data_chars; ++i) {
        if (base64_value(text[i]) < 0) {
            return false;
        }
    }
    // Bits of the last data character that fall into the padding must be 0.
    const int last = base64_value(text[data_chars - 1]);
    if ((padding == 1 && (last & 0x03) != 0) || (padding == 2 && (last & 0x0f) != 0)) {
        return false;
    }

    std::size_t written = 0;
    for (std::size_t done = 0; done < size;) {
        const std::size_t chunk = std::min(size - done, kDecodeChunk);
        const int n = EVP_DecodeBlock(out + written,
                                      reinterpret_cast<const unsigned char *>(text + done),
                                      static_cast<int>(chunk));
        if (n < 0) {
            return false;
        }
        written += static_cast<std::size_t>(n);
        done += chunk;
    }
    *decoded_size = written - padding;
    return true;
}

}  // namespace colcrypt::core::detail
