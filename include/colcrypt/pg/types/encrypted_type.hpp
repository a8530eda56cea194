// The registry of colcrypt's encrypted SQL types: one descriptor per type,
// in the shape of pgvector's HnswTypeInfo.  Everything that needs to know
// which types are colcrypt's (the DDL hook, the planner hook, the log
// redaction, retire_key's scan) asks here; a new type is a new descriptor
// (and its SQL), not a copy of encrypted_text's code.
#pragma once

#include <iterator>

#include "colcrypt/core/value_type.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
}

namespace colcrypt::pg {

// What is sealed for a value of the plaintext type (a stored format,
// docs/design/type-family.md; types/plaintext_codec.hpp builds it).
enum class SealedForm {
    varlena_bytes,  // the datum's bytes (text in the database encoding, bytea)
    jsonb_text,     // jsonb's send format, its text in the database encoding
    binary_send,    // the base type's binary send format
};

struct EncryptedType {
    core::ValueType value_type;  // bound into every envelope as associated data
    const char *name;            // the SQL type, in schema colcrypt
    Oid plaintext_type;          // what it decrypts to
    SealedForm sealed_form;
    // Other types it has = and <> with, compared as plaintext_type (the
    // string types drivers bind); InvalidOid ends the list.
    Oid also_compared_with[3];
};

// Every encrypted type colcrypt defines.
inline constexpr EncryptedType kEncryptedTypes[] = {
    {core::ValueType::text, "encrypted_text", TEXTOID, SealedForm::varlena_bytes, {VARCHAROID, BPCHAROID, InvalidOid}},
    {core::ValueType::bytea, "encrypted_bytea", BYTEAOID, SealedForm::varlena_bytes, {InvalidOid}},
    {core::ValueType::jsonb, "encrypted_jsonb", JSONBOID, SealedForm::jsonb_text, {InvalidOid}},
    {core::ValueType::int4, "encrypted_int4", INT4OID, SealedForm::binary_send, {InvalidOid}},
    {core::ValueType::int8, "encrypted_int8", INT8OID, SealedForm::binary_send, {InvalidOid}},
    {core::ValueType::numeric, "encrypted_numeric", NUMERICOID, SealedForm::binary_send, {InvalidOid}},
    {core::ValueType::date, "encrypted_date", DATEOID, SealedForm::binary_send, {InvalidOid}},
    {core::ValueType::timestamptz, "encrypted_timestamptz", TIMESTAMPTZOID, SealedForm::binary_send, {InvalidOid}},
};
inline constexpr int kEncryptedTypeCount = static_cast<int>(std::size(kEncryptedTypes));

// The descriptor of a value type (every ValueType colcrypt defines a SQL
// type for has one).
const EncryptedType &encrypted_type(core::ValueType value_type);

// The type's OID in this database, InvalidOid when colcrypt is not
// installed (or mid-way through CREATE EXTENSION).  Cached, and looked up
// again after changes to types or schemas.
Oid encrypted_type_oid(const EncryptedType &type);

// The descriptor of an encrypted type by OID; nullptr for any other type.
const EncryptedType *encrypted_type_of(Oid type);

// Whether type is one of colcrypt's encrypted types, or an array of one.
bool is_encrypted_type(Oid type);

// Whether relation has a column that can hold encrypted values: of an
// encrypted type, or a domain, array, composite, range or multirange over
// one (dropped columns aside).  False for an unknown relation.
bool has_encrypted_column(Oid relation);

void register_encrypted_type_invalidation();

}  // namespace colcrypt::pg
