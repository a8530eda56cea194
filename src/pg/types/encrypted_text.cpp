// colcrypt.encrypted_text: input, output, binary I/O and casts.  The crypto
// is in value_codec.cpp; this file only adapts the text type's conventions
// to it.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_in);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_out);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_recv);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_send);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_coerce);
PG_FUNCTION_INFO_V1(colcrypt_text_to_encrypted_text);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_to_text);
}

using colcrypt::core::ValueType;
using namespace colcrypt::pg;

namespace {

constexpr const char *kTypeName = "colcrypt.encrypted_text";

// Text input, shared by the input function and binary receive: our own
// envelope is verified and kept; anything else is plaintext to encrypt.
struct varlena *encrypted_text_from_string(const char *str, size_t size, int32 typmod) {
    if (colcrypt::core::has_envelope_prefix(str, size))
        return value_from_envelope_text(ValueType::text, kTypeName, str, size, typmod);
    return seal_value(ValueType::text, str, size, typmod);
}

// What output shows: the plaintext, or the envelope in ciphertext mode.
char *encrypted_text_to_string(struct varlena *value) {
    if (output_is_ciphertext())
        return value_to_envelope_text(value);
    size_t size;
    char *plaintext = decrypt_for_output(ValueType::text, value, &size);
    return plaintext != nullptr ? plaintext : value_to_envelope_text(value);
}

}  // namespace

extern "C" Datum colcrypt_encrypted_text_in(PG_FUNCTION_ARGS) {
    char *str = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    PG_RETURN_POINTER(encrypted_text_from_string(str, strlen(str), typmod));
}

extern "C" Datum colcrypt_encrypted_text_out(PG_FUNCTION_ARGS) {
    PG_RETURN_CSTRING(encrypted_text_to_string(PG_GETARG_VARLENA_PP(0)));
}

// Binary I/O carries the same text as the text I/O (like text's own
// send/recv): plaintext, or the envelope in ciphertext mode.  The bytes are
// checked here first because PostgreSQL's own message for an invalid
// sequence quotes the offending bytes, which are plaintext.
extern "C" Datum colcrypt_encrypted_text_recv(PG_FUNCTION_ARGS) {
    StringInfo buf = (StringInfo) PG_GETARG_POINTER(0);
    int32 typmod = PG_GETARG_INT32(2);
    if (!pg_verify_mbstr(pg_get_client_encoding(), buf->data + buf->cursor, buf->len - buf->cursor, true))
        ereport(ERROR, (errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
                        errmsg("invalid byte sequence for encoding \"%s\" in a binary value of colcrypt.encrypted_text",
                               pg_get_client_encoding_name()),
                        errdetail("The bytes are not shown: they are part of a plaintext."),
                        errhint("Send the value as text in the client encoding.")));
    int size;
    char *str = pq_getmsgtext(buf, buf->len - buf->cursor, &size);
    struct varlena *value = encrypted_text_from_string(str, size, typmod);
    colcrypt::core::secure_wipe(str, size);
    PG_RETURN_POINTER(value);
}

extern "C" Datum colcrypt_encrypted_text_send(PG_FUNCTION_ARGS) {
    char *str = encrypted_text_to_string(PG_GETARG_VARLENA_PP(0));
    StringInfoData buf;
    pq_begintypsend(&buf);
    pq_sendtext(&buf, str, strlen(str));
    colcrypt::core::secure_wipe(str, strlen(str));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// encrypted_text -> encrypted_text(keyring): the type-modifier coercion that
// binds transit values (and values of other keyrings) to a column's keyring.
extern "C" Datum colcrypt_encrypted_text_coerce(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_PP(0);
    int32 typmod = PG_GETARG_INT32(1);
    PG_RETURN_POINTER(bind_value(ValueType::text, value, typmod));
}

// text (or varchar) -> encrypted_text(keyring): encrypts straight under the
// target keyring.  Same rules as the input function, so every textual path
// into the type means the same thing.
extern "C" Datum colcrypt_text_to_encrypted_text(PG_FUNCTION_ARGS) {
    text *plaintext = PG_GETARG_TEXT_PP(0);
    int32 typmod = PG_GETARG_INT32(1);
    PG_RETURN_POINTER(encrypted_text_from_string(VARDATA_ANY(plaintext), VARSIZE_ANY_EXHDR(plaintext), typmod));
}

// encrypted_text -> text: decrypts straight into the result.
extern "C" Datum colcrypt_encrypted_text_to_text(PG_FUNCTION_ARGS) {
    PG_RETURN_TEXT_P(reinterpret_cast<text *>(decrypt_for_user_as_varlena(ValueType::text, PG_GETARG_VARLENA_PP(0))));
}
