// Private helpers shared by the files of src/core.  Not part of the contract:
// nothing outside src/core includes this header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace colcrypt::core::detail {

// Clear OpenSSL's per-thread error queue and throw Error(crypto_failure).
// Clearing keeps stale OpenSSL errors from being reported by a later,
// unrelated OpenSSL call elsewhere in the process.
[[noreturn]] void throw_crypto_failure(const char *message);

// Exact size of the padded standard base64 encoding of size bytes.
constexpr std::size_t base64_encoded_size(std::size_t size) noexcept {
    return (size + 2) / 3 * 4;
}

// Largest number of bytes base64_decode may write for text_size characters.
constexpr std::size_t base64_max_decoded_size(std::size_t text_size) noexcept {
    return text_size / 4 * 3;
}

// Write base64_encoded_size(size) characters to out, no terminator.
void base64_encode(const std::uint8_t *data, std::size_t size, char *out) noexcept;

// Strict decoder for padded standard base64: the length must be a multiple of
// 4, every character must be in the alphabet (no white space), '=' may only
// end the text (at most two), and unused bits of the last character must be
// zero, so each byte string has exactly one accepted encoding.  Writes up to
// base64_max_decoded_size(size) bytes to out.  Returns false on any defect;
// out may then hold partial output, which the caller must wipe if secret.
bool base64_decode(const char *text, std::size_t size, std::uint8_t *out,
                   std::size_t *decoded_size) noexcept;

}  // namespace colcrypt::core::detail
