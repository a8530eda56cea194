// Equality of encrypted values, through their blind-index terms.
//
// Within one keyring, values are ordered by (term, plaintext), both after
// the keyring's normalisation (case-insensitive keyrings fold ASCII case):
// terms are compared first, without decrypting; only values whose terms are
// equal are decrypted, so a truncated term's false positive never decides a
// result.  Terms of 128 bits or more are conclusive (blind_index.hpp,
// kConclusiveTermSize): equal ones mean equal values, with no decryption.
// Plaintext on the other side (a text argument, or a transit value not yet
// bound to a keyring) is placed in the same order by computing its term
// under the keyring of the encrypted side.  Values of two different keyrings
// have unrelated terms, so no order can be consistent for both: comparing
// them is an error that names both keyrings (compare the plaintexts with
// ::text instead), never a wrong answer.
//
// The btree operator class uses this order, so CREATE INDEX, UNIQUE,
// GROUP BY, DISTINCT and merge joins work within a keyring.  There is no
// hash operator class: a hash consistent with equality would need the same
// term for a transit value whatever keyring it meets.
//
// The operator family also has an (encrypted_text, text) member: an index
// serves `col = <text>` with the text as it is, its term computed once per
// transaction (transaction_cache.hpp).
// Encrypted values whose keyring is not known when a query is parsed
// (literals, untyped bind parameters: transit values) are compared as they
// are, their term under the other side's keyring computed once per
// transaction too.  Arrays (IN lists) and values of another keyring are
// re-sealed under the compared column's keyring, once per statement, by the
// planner hook in comparison_binding.cpp.
#pragma once

namespace colcrypt::pg {

void install_comparison_binding_hook();

}  // namespace colcrypt::pg
