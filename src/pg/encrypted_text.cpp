// colcrypt.encrypted_text: input, output, binary I/O, type modifier, casts,
// and describe().  The crypto is in value_codec.cpp; this file only adapts
// the text type's conventions to it.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/value_codec.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_in);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_out);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_recv);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_send);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_coerce);
PG_FUNCTION_INFO_V1(colcrypt_text_to_encrypted_text);
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_to_text);
PG_FUNCTION_INFO_V1(colcrypt_keyring_typmod_in);
PG_FUNCTION_INFO_V1(colcrypt_keyring_typmod_out);
PG_FUNCTION_INFO_V1(colcrypt_describe);
PG_FUNCTION_INFO_V1(colcrypt_value_keyring_id);
PG_FUNCTION_INFO_V1(colcrypt_value_key_version);
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
    if (guc_output_mode == static_cast<int>(OutputMode::ciphertext))
        return value_to_envelope_text(value);
    size_t size;
    return open_value(ValueType::text, value, &size);
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
// send/recv): plaintext, or the envelope in ciphertext mode.
extern "C" Datum colcrypt_encrypted_text_recv(PG_FUNCTION_ARGS) {
    StringInfo buf = (StringInfo) PG_GETARG_POINTER(0);
    int32 typmod = PG_GETARG_INT32(2);
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
    PG_RETURN_TEXT_P(reinterpret_cast<text *>(open_value_as_varlena(ValueType::text, PG_GETARG_VARLENA_PP(0))));
}

// Type modifier input: encrypted_text('pii') -> the keyring's modifier.
// An unknown keyring is an error, except while check_function_bodies is off:
// pg_dump scripts turn it off, and they create tables before the keyring
// rows are loaded.
extern "C" Datum colcrypt_keyring_typmod_in(PG_FUNCTION_ARGS) {
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    Datum *elements;
    int count;
    deconstruct_array(modifiers, CSTRINGOID, -2, false, TYPALIGN_CHAR, &elements, nullptr, &count);
    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("an encrypted type takes exactly one modifier, the keyring name"),
                        errhint("Write for example colcrypt.encrypted_text('pii').")));
    const char *name = DatumGetCString(elements[0]);
    int32 typmod = keyring_typmod_for_name(name);
    if (!in_restore() && keyring_name_for_typmod(typmod) == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring \"%s\" does not exist", name),
                        errhint("Create it first with SELECT colcrypt.create_key('%s').", name)));
    PG_RETURN_INT32(typmod);
}

extern "C" Datum colcrypt_keyring_typmod_out(PG_FUNCTION_ARGS) {
    int32 typmod = PG_GETARG_INT32(0);
    if (typmod < 0)
        PG_RETURN_CSTRING(pstrdup(""));
    char *name = keyring_name_for_typmod(typmod);
    // An unknown modifier prints as a number, which typmod input rejects
    // with a clear error instead of silently naming another keyring.
    PG_RETURN_CSTRING(name ? psprintf("('%s')", name) : psprintf("(%d)", typmod));
}

// colcrypt.describe(value): what a value's header says, without decrypting.
extern "C" Datum colcrypt_describe(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_PP(0);
    colcrypt::core::Envelope envelope = parse_value(value);
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    tupdesc = BlessTupleDesc(tupdesc);

    char *keyring = keyring_name_for_id(envelope.keyring_id);
    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    values[0] = keyring ? CStringGetTextDatum(keyring) : (Datum) 0;
    nulls[0] = keyring == nullptr;
    values[1] = Int32GetDatum((int32) envelope.key_version);
    values[2] = Int32GetDatum((int32) envelope.term_size * 8);
    values[3] = Int32GetDatum((int32) envelope.total_size);
    values[4] = Int32GetDatum((int32) envelope.format_version);
    values[5] = CStringGetTextDatum(envelope.algorithm == colcrypt::core::kAlgorithmAes256Gcm ? "aes-256-gcm"
                                                                                              : "unknown");
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

// colcrypt._keyring_id(value), colcrypt._key_version(value): header fields
// alone, cheap enough to scan whole tables (colcrypt.retire_key).
extern "C" Datum colcrypt_value_keyring_id(PG_FUNCTION_ARGS) {
    PG_RETURN_INT32((int32) parse_value(PG_GETARG_VARLENA_PP(0)).keyring_id);
}

extern "C" Datum colcrypt_value_key_version(PG_FUNCTION_ARGS) {
    PG_RETURN_INT32((int32) parse_value(PG_GETARG_VARLENA_PP(0)).key_version);
}
