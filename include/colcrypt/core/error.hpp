// Errors raised by the colcrypt core.
//
// The core reports failures by throwing colcrypt::core::Error.  Messages are
// fixed strings chosen by the core: they never contain plaintext, key bytes
// or any other caller data, so the PostgreSQL layer may show them as they are.
// The PostgreSQL layer maps each Errc to a SQLSTATE in one place
// (src/pg/boundary.cpp).
#pragma once

#include <exception>

namespace colcrypt::core {

enum class Errc {
    invalid_argument,       // a caller passed sizes or parameters the core does not accept
    malformed_value,        // stored bytes are not a well-formed colcrypt value
    unsupported_format,     // well-formed, but a format version or algorithm we do not know
    authentication_failed,  // AEAD tag or key-wrap check failed: tampered, or wrong key
    invalid_key_material,   // master key text has the wrong length or encoding
    crypto_failure,         // OpenSSL itself failed (out of memory, RNG failure, ...)
};

class Error : public std::exception {
public:
    // message must be a string literal (static storage): it is not copied.
    Error(Errc code, const char *message) noexcept : code_(code), message_(message) {}
    Errc code() const noexcept { return code_; }
    const char *what() const noexcept override { return message_; }

private:
    Errc code_;
    const char *message_;
};

}  // namespace colcrypt::core
