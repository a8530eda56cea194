// Small caches that live as long as the current transaction, so that an
// equality lookup on an encrypted column does its crypto once.
//
// Plaintexts.  An index lookup compares its search value with about twenty
// index entries on the way down.  Blind-index terms settle all but the
// match, whose equal term must be confirmed on the plaintexts (a truncated
// term can collide): once by the btree order during the descent and once
// more by = when the scan checks the entry.  Decrypting both sides each time
// made four decryptions per lookup; with the cache the search value's
// plaintext is known (kept when it was sealed: a transit value, or an array
// element colcrypt._bind bound; or because it is text), and the matching
// entry is decrypted once.  Entries are keyed by
// the value type and the whole envelope: an envelope has exactly one
// plaintext, and authenticates only as the type it was sealed as.  Only
// values that authenticated, or that colcrypt has just sealed itself, are
// entered.
//
// Bindings.  colcrypt._bind (comparison_binding.cpp) remembers its last
// result per call site, but a simple-protocol query runs it at two call
// sites with the same input: the planner evaluates it to estimate
// selectivity, then the executor.  The second finds the first's result here
// instead of computing a term and sealing again.  (After a key rotation in
// the same transaction a cached result may be under the previous key
// version: it still decrypts, and compares the same.)
//
// Terms.  A comparison of an encrypted column with text (a text parameter,
// an expression, a text column of another table) needs the text's term
// under the column's keyring: for every row of a scan, and for each of the
// twenty comparisons of an index descent, which the btree makes through a
// new FmgrInfo for every descent (so nothing can be kept in fn_extra: a
// nested loop would pile it up).  The term is computed once per
// transaction.  A keyring's index key and normalisation never change, so
// keyring id and term size identify the term function.  Transit values (an
// untyped parameter, a literal) are compared the same way, row after row
// and entry after entry, without being sealed again under the column's
// keyring: their terms are looked up by their envelope, in a table of their
// own (a text could be made of an envelope's bytes).
//
// All hold a few entries (least recently used replaced first) copied
// into a memory context under TopTransactionContext.  Plaintexts, _bind
// inputs (which may be plaintext) and the plaintexts that terms are cached
// for are wiped when that context goes at the end of the transaction, or
// when replaced.
#pragma once

#include <cstddef>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Longer plaintexts and _bind inputs are not cached (rarely worth it).
constexpr std::size_t kMaxCachedSize = 1024;

// The plaintext of an encrypted value when cached, else nullptr; *size
// receives its size.  Owned by the cache: valid until the next
// cache_plaintext call or the end of the transaction.
const char *cached_plaintext(core::ValueType type, struct varlena *value, std::size_t *size);

// Remember the plaintext of an encrypted value; both are copied.
void cache_plaintext(core::ValueType type, struct varlena *value, const char *plaintext, std::size_t size);

// The result of the _bind function `function` for this type modifier and
// input bytes, when cached, else nullptr.  Owned by the cache: valid until
// the next cache_binding call or the end of the transaction.
struct varlena *cached_binding(Oid function, int32 typmod, const char *input, std::size_t size);

// Remember a _bind result (a varlena); input and result are copied.
void cache_binding(Oid function, int32 typmod, const char *input, std::size_t size, struct varlena *result);

// What a cached term is looked up by: a plaintext, or the envelope of a
// transit value.
enum class TermOf { plaintext, transit_value };

// The blind-index term under a keyring (term_size bytes) of a plaintext or
// transit value given by its bytes, into *term, when cached; else false.
bool cached_term(TermOf of, std::uint32_t keyring_id, std::size_t term_size, const char *bytes, std::size_t size,
                 std::uint8_t *term);

// Remember the term of a plaintext or transit value; both are copied.
void cache_term(TermOf of, std::uint32_t keyring_id, std::size_t term_size, const char *bytes, std::size_t size,
                const std::uint8_t *term);

}  // namespace colcrypt::pg
