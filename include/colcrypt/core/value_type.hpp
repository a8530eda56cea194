// The plaintext types colcrypt encrypts.
//
// A value's type is bound into its envelope as associated data (see
// envelope.hpp) and feeds its blind-index term (blind_index.hpp), so the
// numbers below are part of the stored format: they never change, and a
// new type takes a new number.  The PostgreSQL layer keeps one descriptor
// per SQL type that uses them (pg/types/encrypted_type.hpp).
#pragma once

#include <cstdint>

namespace colcrypt::core {

enum class ValueType : std::uint8_t {
    text = 1,
    bytea = 2,
    jsonb = 3,
    int4 = 4,
    int8 = 5,
    numeric = 6,
    date = 7,
    timestamptz = 8,
};

// The plaintext type's name ("text", "int4", ...), or nullptr for a number
// that names no type.
const char *value_type_name(ValueType type) noexcept;

}  // namespace colcrypt::core
