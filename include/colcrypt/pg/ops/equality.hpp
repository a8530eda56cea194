// What ops/equality.cpp offers beyond its SQL-callable comparisons: the
// terms of a search operand, for lookups through an index over
// colcrypt.term() (ops/term_index.cpp, docs/design/lookup-index.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/value_type.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Which of a keyring's index keys a search term is made under: the order
// key, whose terms the values of most data versions carry, or the key the
// active data version is bound to, whose terms new values carry (the same
// key outside a blind-index key rotation).
enum class SearchKey { order, sealing };

// The term a stored value of keyring_id equal to `operand` carries when its
// data version is bound to index key `which`, into term (*size bytes: the
// keyring's stored term size), computed once per transaction.  operand is
// a plaintext in its sealed form (is_plaintext), or a transit value, search
// value or value of keyring_id; a value of another keyring is an error, as
// comparing it would be.  False when the keyring keeps no terms.
bool search_operand_term(core::ValueType type, bool is_plaintext, struct varlena *operand, std::uint32_t keyring_id,
                         SearchKey which, std::uint8_t *term, std::size_t *size);

// A character(n) value as the text it compares as: without its trailing
// spaces.  The value itself when it has none.
struct varlena *bpchar_as_text(struct varlena *value);

}  // namespace colcrypt::pg
