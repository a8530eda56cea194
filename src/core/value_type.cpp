// Names of the plaintext types.
#include "colcrypt/core/value_type.hpp"

#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

const char *value_type_name(ValueType type) noexcept {
    switch (type) {
    case ValueType::text: return "text";
    case ValueType::bytea: return "bytea";
    case ValueType::jsonb: return "jsonb";
    case ValueType::int4: return "int4";
    case ValueType::int8: return "int8";
    case ValueType::numeric: return "numeric";
    case ValueType::date: return "date";
    case ValueType::timestamptz: return "timestamptz";
    }
    return nullptr;
}

}  // namespace colcrypt::core
