// The encrypted types beyond text (encrypted_bytea, _jsonb, _int4, _int8,
// _numeric, _date, _timestamptz): input, output, binary I/O and casts, one
// implementation for all of them.  What is sealed is the base type's
// sealed form (types/plaintext_codec.hpp); the crypto is value_codec.cpp's.
// encrypted_text keeps its own file: its binary I/O is text's.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "libpq/pqformat.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/plaintext_codec.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

namespace colcrypt::pg {
namespace {

char *qualified_name(core::ValueType type) {
    return psprintf("colcrypt.%s", encrypted_type(type).name);
}

// Seals a datum of the plaintext type.
struct varlena *seal_plaintext(core::ValueType type, Datum plaintext, int32 typmod) {
    struct varlena *sealed = sealed_form_of(type, plaintext);
    struct varlena *value = seal_value(type, VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed), typmod);
    if (reinterpret_cast<Pointer>(sealed) != DatumGetPointer(plaintext)) {
        core::secure_wipe(VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed));
        pfree(sealed);
    }
    return value;
}

// The plaintext type's datum of opened bytes, which are wiped and freed.
Datum datum_of_opened(core::ValueType type, char *bytes, std::size_t size) {
    Datum plaintext = datum_of_sealed_form(type, bytes, size);
    core::secure_wipe(bytes, size);
    pfree(bytes);
    return plaintext;
}

// The plaintext type's datum of a value, for a user: the decrypt
// privilege is checked first.
Datum open_for_user(core::ValueType type, struct varlena *value) {
    std::size_t size;
    char *bytes = decrypt_for_user(type, value, &size);
    return datum_of_opened(type, bytes, size);
}

// Text input: an envelope (input starting with "colcrypt:") is verified
// and kept; anything else is the base type's text, validated by its own
// input function under the session's settings.
struct varlena *encrypted_value_in(core::ValueType type, const char *str, int32 typmod) {
    std::size_t size = std::strlen(str);
    if (core::has_envelope_prefix(str, size))
        return value_from_envelope_text(type, qualified_name(type), str, size, typmod);
    return seal_plaintext(type, plaintext_from_text(type, str), typmod);
}

// Output: the base type's canonical text, or the envelope in ciphertext mode
// (and in a violation's description for a user who may not decrypt it).
char *encrypted_value_out(core::ValueType type, struct varlena *value) {
    if (output_is_ciphertext())
        return value_to_envelope_text(value);
    std::size_t size;
    char *bytes = decrypt_for_output(type, value, &size);
    if (bytes == nullptr)
        return value_to_envelope_text(value);
    return plaintext_to_text(type, datum_of_opened(type, bytes, size));
}

// Binary input: the base type's binary format, or an envelope's text form.
// No plaintext of a fixed-size type has the prefix's length; numeric's and
// jsonb's binary formats never start with it; a bytea that does is an
// envelope here, and is sent as a bytea parameter to be encrypted
// (docs/design/type-family.md).
struct varlena *encrypted_value_recv(core::ValueType type, StringInfo buf, int32 typmod) {
    const char *data = buf->data + buf->cursor;
    std::size_t size = buf->len - buf->cursor;
    if (core::has_envelope_prefix(data, size)) {
        struct varlena *value = value_from_envelope_text(type, qualified_name(type), data, size, typmod);
        buf->cursor = buf->len;
        return value;
    }
    return seal_plaintext(type, plaintext_from_binary(type, buf), typmod);
}

// Binary output: the base type's send format, or the envelope's text form
// in ciphertext mode.
bytea *encrypted_value_send(core::ValueType type, struct varlena *value) {
    if (output_is_ciphertext()) {
        char *text = value_to_envelope_text(value);
        StringInfoData buf;
        pq_begintypsend(&buf);
        pq_sendbytes(&buf, text, std::strlen(text));
        return pq_endtypsend(&buf);
    }
    return plaintext_to_binary(type, open_for_user(type, value));
}

Datum encrypted_value_to_plaintext(core::ValueType type, struct varlena *value) {
    return open_for_user(type, value);
}

struct varlena *encrypted_value_from_plaintext(core::ValueType type, Datum plaintext, int32 typmod) {
    return seal_plaintext(type, plaintext, typmod);
}

}  // namespace
}  // namespace colcrypt::pg

using colcrypt::core::ValueType;
using namespace colcrypt::pg;

// The SQL-callable functions of one type, named colcrypt_encrypted_<T>_*.
// A new type is one line below, a registry entry and its row in the SQL.
#define ENCRYPTED_VALUE_FUNCTIONS(T)                                                                         \
    extern "C" {                                                                                             \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_in);                                                        \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_out);                                                       \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_recv);                                                      \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_send);                                                      \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_coerce);                                                    \
    PG_FUNCTION_INFO_V1(colcrypt_##T##_to_encrypted_##T);                                                    \
    PG_FUNCTION_INFO_V1(colcrypt_encrypted_##T##_to_##T);                                                    \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_in(PG_FUNCTION_ARGS) {                                         \
        PG_RETURN_POINTER(encrypted_value_in(ValueType::T, PG_GETARG_CSTRING(0), PG_GETARG_INT32(2)));       \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_out(PG_FUNCTION_ARGS) {                                        \
        PG_RETURN_CSTRING(encrypted_value_out(ValueType::T, PG_GETARG_VARLENA_PP(0)));                       \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_recv(PG_FUNCTION_ARGS) {                                       \
        PG_RETURN_POINTER(encrypted_value_recv(ValueType::T, (StringInfo) PG_GETARG_POINTER(0),              \
                                               PG_GETARG_INT32(2)));                                         \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_send(PG_FUNCTION_ARGS) {                                       \
        PG_RETURN_BYTEA_P(encrypted_value_send(ValueType::T, PG_GETARG_VARLENA_PP(0)));                      \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_coerce(PG_FUNCTION_ARGS) {                                     \
        PG_RETURN_POINTER(bind_value(ValueType::T, PG_GETARG_VARLENA_PP(0), PG_GETARG_INT32(1)));            \
    }                                                                                                        \
    extern "C" Datum colcrypt_##T##_to_encrypted_##T(PG_FUNCTION_ARGS) {                                     \
        PG_RETURN_POINTER(encrypted_value_from_plaintext(ValueType::T, PG_GETARG_DATUM(0), PG_GETARG_INT32(1))); \
    }                                                                                                        \
    extern "C" Datum colcrypt_encrypted_##T##_to_##T(PG_FUNCTION_ARGS) {                                     \
        PG_RETURN_DATUM(encrypted_value_to_plaintext(ValueType::T, PG_GETARG_VARLENA_PP(0)));                \
    }

ENCRYPTED_VALUE_FUNCTIONS(bytea)
ENCRYPTED_VALUE_FUNCTIONS(jsonb)
ENCRYPTED_VALUE_FUNCTIONS(int4)
ENCRYPTED_VALUE_FUNCTIONS(int8)
ENCRYPTED_VALUE_FUNCTIONS(numeric)
ENCRYPTED_VALUE_FUNCTIONS(date)
ENCRYPTED_VALUE_FUNCTIONS(timestamptz)
