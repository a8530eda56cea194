// A plaintext type's values and their sealed form (docs/design/type-family.md):
// the bytes colcrypt encrypts, which are the base type's binary send format
// (text and jsonb in the database encoding).  Also the base type's input,
// output and equality as the encrypted types use them.
//
// Every function here takes the value type of a registered encrypted type
// (types/encrypted_type.hpp); text's sealed form is its bytes.
#pragma once

#include <cstddef>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/value_type.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

namespace colcrypt::pg {

// The sealed form of a datum of the plaintext type, as a varlena whose
// data are the bytes (the datum itself, detoasted, for text and bytea).
struct varlena *sealed_form_of(core::ValueType type, Datum plaintext);

// The plaintext type's datum for sealed-form bytes, checked by the base
// type's receive function.
Datum datum_of_sealed_form(core::ValueType type, const char *bytes, std::size_t size);

// The base type's text input, under the session's settings.  A data
// exception it raises is raised again with the same SQLSTATE and without
// the input, which is a plaintext (nothing of the original message, detail
// or context is kept).
Datum plaintext_from_text(core::ValueType type, const char *text);

// The base type's binary input (a client's binary parameter or binary
// COPY), with the same redaction.
Datum plaintext_from_binary(core::ValueType type, StringInfo buf);

// The base type's text output and binary send format of a datum.
char *plaintext_to_text(core::ValueType type, Datum plaintext);
bytea *plaintext_to_binary(core::ValueType type, Datum plaintext);

// Orders two sealed plaintexts of a type whose blind-index terms left them
// undecided: 0 exactly when the base type's own `=` holds (the equality
// operator of its default btree operator class), else by canonical form
// (core/canonical_form.hpp), so that the order is consistent with `=`.
int order_sealed_plaintexts(core::ValueType type, core::Normalization keyring_normalization, const char *a, std::size_t a_size,
                            const char *b, std::size_t b_size);

}  // namespace colcrypt::pg
