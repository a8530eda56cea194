// Canonical forms of sealed plaintexts: the bytes a value's blind-index
// term is computed from, and that order values whose terms tie.
//
// Values equal under their base type's `=` must get equal terms, but their
// sealed plaintexts (docs/design/type-family.md) may differ: numeric 1.0
// and 1.00 differ in their display scale, jsonb {"a": 1.0} and {"a": 1.00}
// in the text of a number.  The canonical form removes exactly what the
// base type's equality ignores.  A stored format: terms in every envelope
// and the order of every index depend on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/value_type.hpp"

namespace colcrypt::core {

// Whether the canonical form of type's sealed plaintexts can differ from
// the sealed bytes (numeric, jsonb).  For the others it is the bytes.
bool canonical_form_rewrites(ValueType type) noexcept;

// The canonical form of a sealed plaintext of type, into out (which it
// replaces).  At most size bytes.  Bytes that are not a well-formed sealed
// plaintext of the type are kept as they are.
void canonical_form(ValueType type, const std::uint8_t *plaintext, std::size_t size, std::vector<std::uint8_t> &out);

// The keyring's normalisation as it applies to a type: ASCII case folding
// is for text only (folding a bytea or a JSON string would make unequal
// values equal).
Normalization normalization_for(ValueType type, Normalization keyring_normalization) noexcept;

// Orders two sealed plaintexts of type by their canonical forms (after the
// normalisation that applies to the type), like compare_normalized: 0
// exactly when the base type's `=` holds.
int compare_canonical(ValueType type, Normalization keyring_normalization, const std::uint8_t *a,
                      std::size_t a_size, const std::uint8_t *b, std::size_t b_size);

}  // namespace colcrypt::core
