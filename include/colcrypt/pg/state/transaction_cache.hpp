// Small caches that live as long as the current transaction, so that an
// equality lookup on an encrypted column does its crypto once: plaintexts
// by envelope, _bind results by input, and blind-index terms of search
// values (plaintexts and transit values) by keyring.  Why each exists and
// what keys it: docs/architecture.md, "Transaction caches".
//
// Each holds a few entries (least recently used replaced first) copied into
// a memory context under TopTransactionContext.  Plaintexts, _bind inputs
// (which may be plaintext) and the plaintexts that terms are cached for are
// wiped when that context goes at the end of the transaction, or when
// replaced.
#pragma once

#include <cstddef>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Longer plaintexts and _bind inputs are not cached (rarely worth it).
constexpr std::size_t kMaxCachedSize = 1024;

// The plaintext of an encrypted value when cached, else nullptr; *size
// receives its size.  Whoever decrypted it, a cached plaintext is only ever
// compared (ops/equality.cpp) or, for a transit value, which needs no
// grant, sealed again: never returned to a user.  Owned by the cache: valid until the next
// cache_plaintext call or the end of the transaction.
const char *cached_plaintext(core::ValueType type, struct varlena *value, std::size_t *size);

// Remember the plaintext of an encrypted value; both are copied.
void cache_plaintext(core::ValueType type, struct varlena *value, const char *plaintext, std::size_t size);

// The result of the _bind function `function` for this type modifier, the
// keyring's order key (index_version: search values carry its terms, so a
// result made before a blind-index key cut-over is not one after it) and
// input bytes, computed under the current user's privileges (GetUserId():
// a SECURITY DEFINER function's owner, or a role set later in the
// transaction, do not share results), when cached, else nullptr.  Owned by the cache: valid until
// the next cache_binding call or the end of the transaction.
struct varlena *cached_binding(Oid function, int32 typmod, std::uint32_t index_version, const char *input,
                               std::size_t size);

// Remember a _bind result (a varlena); input and result are copied.
void cache_binding(Oid function, int32 typmod, std::uint32_t index_version, const char *input, std::size_t size,
                   struct varlena *result);

// What a cached term is looked up by: a plaintext, or the envelope of a
// transit value (or of a stored value whose term is under another index
// key than the order key, during a blind-index key rotation).
enum class TermOf { plaintext, transit_value };

// The blind-index term under a keyring's index key index_version (term_size
// bytes) of a plaintext or transit value of a type given by its bytes, into
// *term, when cached; else false.  The type is part of the key: an int4's
// four bytes may be a text's.  So is the index key: a term made before a
// blind-index key cut-over is not one after it.  With cached_bytes, a hit
// also gives the cache's own copy of the bytes looked up (see
// transaction_cache_generation for how long it lasts).
bool cached_term(TermOf of, core::ValueType type, std::uint32_t keyring_id, std::uint32_t index_version,
                 std::size_t term_size, const char *bytes, std::size_t size, std::uint8_t *term,
                 const char **cached_bytes = nullptr);

// Remember the term of a plaintext or transit value; both are copied.
void cache_term(TermOf of, core::ValueType type, std::uint32_t keyring_id, std::uint32_t index_version,
                std::size_t term_size, const char *bytes, std::size_t size, const std::uint8_t *term);

// Changes whenever copies owned by the caches are freed (an entry replaced,
// the transaction's end): a pointer into the caches taken under one
// generation stays valid while the generation does.
std::uint64_t transaction_cache_generation();

}  // namespace colcrypt::pg
