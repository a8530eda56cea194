// Fuzz entry logic: see envelope_fuzz.hpp.
#include "fuzz/envelope_fuzz.hpp"

#include <stdexcept>
#include <vector>

#include "colcrypt/core/error.hpp"

namespace colcrypt::fuzz {

namespace {

// Codes that bad input may legitimately produce.
bool expected_error(core::Errc code) {
    return code == core::Errc::malformed_value || code == core::Errc::unsupported_format ||
           code == core::Errc::authentication_failed;
}

void require(bool condition, const char *what) {
    if (!condition) {
        throw std::logic_error(what);
    }
}

// The parsed fields must tile the buffer exactly.
void check_layout(const core::Envelope &env, const std::uint8_t *data, std::size_t size) {
    require(env.start == data && env.total_size == size, "envelope bounds");
    require(env.nonce == data + env.prefix_size - env.term_size - core::kNonceSize,
            "nonce position");
    require(env.term_size <= core::kMaxTermSize, "term size");
    require((env.term_size == 0) == (env.term == nullptr), "term pointer");
    require(env.prefix_size <= core::kMaxPrefixSize, "prefix size");
    require(env.ciphertext == data + env.prefix_size, "ciphertext position");
    require(env.tag == env.ciphertext + env.ciphertext_size, "tag position");
    require(env.prefix_size + env.ciphertext_size + core::kTagSize == size, "sizes add up");
}

// The shortcuts that read only the first bytes agree with the full parse:
// what peek_term accepts, parse_envelope accepts with the same keyring and
// term; what read_envelope_header reads, parse_envelope reads the same.
void check_shortcuts(const std::uint8_t *data, std::size_t size, const core::Envelope *env) {
    core::TermView view{};
    if (core::peek_term(data, size, &view)) {
        require(env != nullptr, "peek_term accepted what parse_envelope refuses");
        require(view.keyring_id == env->keyring_id && view.term_size == env->term_size && view.term == env->term,
                "peek_term disagrees with parse_envelope");
    }
    std::uint32_t keyring_id = 0, version = 0;
    const bool header = core::read_envelope_header(data, size, &keyring_id, &version);
    if (env != nullptr) {
        require(header, "read_envelope_header refused what parse_envelope accepts");
        require(keyring_id == env->keyring_id && version == env->key_version,
                "read_envelope_header disagrees with parse_envelope");
    }
}

// Parse and open one binary envelope.
Outcome parse_and_open(const std::uint8_t *data, std::size_t size) {
    core::Envelope env{};
    try {
        env = core::parse_envelope(data, size);
    } catch (const core::Error &e) {
        require(expected_error(e.code()), "unexpected error code from parse_envelope");
        check_shortcuts(data, size, nullptr);
        return Outcome::rejected;
    }
    check_layout(env, data, size);
    check_shortcuts(data, size, &env);
    std::vector<std::uint8_t> plaintext(env.ciphertext_size);
    try {
        core::open(fuzz_aead(), kFuzzType, env, plaintext.data());
    } catch (const core::Error &e) {
        require(e.code() == core::Errc::authentication_failed,
                "unexpected error code from open");
        for (std::uint8_t byte : plaintext) {
            require(byte == 0, "output not wiped after authentication failure");
        }
        return Outcome::not_authentic;
    }
    return Outcome::opened;
}

}  // namespace

core::AesGcm &fuzz_aead() {
    static const std::uint8_t key_bytes[core::kKeySize] = {
        0x43, 0x4f, 0x4c, 0x43, 0x52, 0x59, 0x50, 0x54, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6b, 0x65,
        0x79, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    };
    static core::AesGcm aead{core::SecretKey(key_bytes)};
    return aead;
}

Outcome fuzz_envelope_input(const std::uint8_t *data, std::size_t size) {
    Outcome outcome = parse_and_open(data, size);

    const char *text = reinterpret_cast<const char *>(data);
    if (core::has_envelope_prefix(text, size)) {
        std::vector<std::uint8_t> decoded(core::envelope_max_decoded_size(size));
        std::size_t decoded_size = 0;
        try {
            decoded_size = core::envelope_from_text(text, size, decoded.data());
        } catch (const core::Error &e) {
            require(e.code() == core::Errc::malformed_value,
                    "unexpected error code from envelope_from_text");
            return outcome;
        }
        require(decoded_size <= decoded.size(), "decoded size exceeds the bound");
        const Outcome from_text = parse_and_open(decoded.data(), decoded_size);
        if (from_text != Outcome::rejected) {
            outcome = from_text;
        }
    }
    return outcome;
}

}  // namespace colcrypt::fuzz
