// Transaction-lifetime caches of plaintexts, _bind results and terms.  See
// include/colcrypt/pg/state/transaction_cache.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "miscadmin.h"
#include "utils/memutils.h"
}

#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/state/transaction_cache.hpp"

namespace colcrypt::pg {
namespace {

// One entry of any of the caches: secret bytes looked up by public bytes, or
// public bytes looked up by secret ones.
//   plaintexts: key = envelope, value = plaintext (secret)
//   bindings:   key = _bind input (may be plaintext), value = result envelope
//   terms:      key = plaintext (secret), value = its blind-index term
//   transit terms: key = transit envelope, value = its blind-index term
struct Entry {
    std::uint32_t kind;  // value type, _bind function OID, or keyring id
    int32 typmod;        // bindings: type modifier; terms: term size
    Oid user;            // bindings: whose privileges computed it; else InvalidOid
    std::uint32_t index_version;  // terms and bindings: the order key's version
    std::uint8_t *key;   // nullptr: free slot
    std::size_t key_size;
    std::uint8_t *value;
    std::size_t value_size;
    std::uint64_t last_used;
};

constexpr int kPlaintexts = 8;
constexpr int kBindings = 4;
// Room for the search values of a query's quals (email = 'a' OR email = 'b'
// OR ...): each is compared with every row, and one evicting another would
// compute its term again per row.
constexpr int kTerms = 16;

// One cache: its slots, and how many leading slots were filled in this
// transaction (the end wipes those, not every slot).
template <int N>
struct Table {
    Entry slots[N];
    int used = 0;
};

Table<kPlaintexts> plaintexts;
Table<kBindings> bindings;
Table<kTerms> terms;
Table<kTerms> transit_terms;
std::uint64_t use_clock = 0;
// Bumped whenever an entry's copies are freed (replaced, or the
// transaction's end): transaction_cache_generation.
std::uint64_t generation = 1;
MemoryContext cache_context = nullptr;  // under TopTransactionContext

void wipe_entry(Entry &e) {
    if (e.key != nullptr) {
        core::secure_wipe(e.key, e.key_size);
        core::secure_wipe(e.value, e.value_size);
    }
    e = Entry{};
}

template <int N>
void wipe_used(Table<N> &table) {
    for (int i = 0; i < table.used; i++)
        wipe_entry(table.slots[i]);
    table.used = 0;
}

// The transaction's end deletes the context: wipe, then forget everything.
void wipe_all(void *) {
    wipe_used(plaintexts);
    wipe_used(bindings);
    wipe_used(terms);
    wipe_used(transit_terms);
    generation++;
    cache_context = nullptr;
}

MemoryContext context_for_entries() {
    if (cache_context == nullptr) {
        cache_context = AllocSetContextCreate(TopTransactionContext, "colcrypt transaction cache",
                                              ALLOCSET_SMALL_SIZES);
        auto *callback = static_cast<MemoryContextCallback *>(
            MemoryContextAlloc(cache_context, sizeof(MemoryContextCallback)));
        callback->func = wipe_all;
        callback->arg = nullptr;
        MemoryContextRegisterResetCallback(cache_context, callback);
    }
    return cache_context;
}

// Slots fill from the first (insert takes the first free one), so the
// search stops at the first free slot.  (A slot left free by a failed
// allocation hides the ones after it until it is filled again: misses,
// never a wrong hit.)
template <int N>
Entry *find(Table<N> &table, std::uint32_t kind, int32 typmod, Oid user, const void *key, std::size_t size,
            std::uint32_t index_version = 0) {
    if (cache_context == nullptr)
        return nullptr;
    for (Entry &e : table.slots) {
        if (e.key == nullptr)
            break;
        if (e.kind == kind && e.typmod == typmod && e.user == user && e.index_version == index_version &&
            e.key_size == size && std::memcmp(e.key, key, size) == 0) {
            e.last_used = ++use_clock;
            return &e;
        }
    }
    return nullptr;
}

// Copy into the slot used longest ago (so the search value of a scan, used
// by every comparison, stays), unless the key is there already.
template <int N>
void insert(Table<N> &table, std::uint32_t kind, int32 typmod, Oid user, const void *key, std::size_t key_size,
            const void *value, std::size_t value_size, std::uint32_t index_version = 0) {
    if (key_size > kMaxCachedSize || value_size > kMaxCachedSize || TopTransactionContext == nullptr ||
        find(table, kind, typmod, user, key, key_size, index_version) != nullptr)
        return;
    MemoryContext context = context_for_entries();
    Entry *slot = &table.slots[0];
    for (Entry &e : table.slots) {
        if (e.key == nullptr) {
            slot = &e;
            break;
        }
        if (e.last_used < slot->last_used)
            slot = &e;
    }
    if (slot->key != nullptr) {
        std::uint8_t *old_key = slot->key, *old_value = slot->value;
        wipe_entry(*slot);
        pfree(old_key);
        pfree(old_value);
        generation++;
    }
    table.used = Max(table.used, (int) (slot - table.slots) + 1);
    // Both copies are made before the slot is filled: an allocation failure
    // leaves it free, and anything copied is in the context, wiped or not
    // with it (a failed allocation ends the transaction anyway).
    auto *key_copy = static_cast<std::uint8_t *>(MemoryContextAlloc(context, key_size + 1));
    auto *value_copy = static_cast<std::uint8_t *>(MemoryContextAlloc(context, value_size + 1));
    std::memcpy(key_copy, key, key_size);
    std::memcpy(value_copy, value, value_size);
    slot->kind = kind;
    slot->typmod = typmod;
    slot->user = user;
    slot->index_version = index_version;
    slot->key = key_copy;
    slot->key_size = key_size;
    slot->value = value_copy;
    slot->value_size = value_size;
    slot->last_used = ++use_clock;
}

}  // namespace

const char *cached_plaintext(core::ValueType type, struct varlena *value, std::size_t *size) {
    Entry *e = find(plaintexts, static_cast<std::uint32_t>(type), 0, InvalidOid, VARDATA_ANY(value),
                    VARSIZE_ANY_EXHDR(value));
    if (e == nullptr)
        return nullptr;
    *size = e->value_size;
    return reinterpret_cast<const char *>(e->value);
}

void cache_plaintext(core::ValueType type, struct varlena *value, const char *plaintext, std::size_t size) {
    insert(plaintexts, static_cast<std::uint32_t>(type), 0, InvalidOid, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
           plaintext, size);
}

struct varlena *cached_binding(Oid function, int32 typmod, std::uint32_t index_version, const char *input,
                               std::size_t size) {
    Entry *e = find(bindings, function, typmod, GetUserId(), input, size, index_version);
    return e == nullptr ? nullptr : reinterpret_cast<struct varlena *>(e->value);
}

// The whole result varlena is the value, so a hit is a usable datum.
void cache_binding(Oid function, int32 typmod, std::uint32_t index_version, const char *input, std::size_t size,
                   struct varlena *result) {
    insert(bindings, function, typmod, GetUserId(), input, size, result, VARSIZE_ANY(result), index_version);
}

// The value type takes the slot of the third key (an Oid elsewhere).
bool cached_term(TermOf of, core::ValueType type, std::uint32_t keyring_id, std::uint32_t index_version,
                 std::size_t term_size, const char *bytes, std::size_t size, std::uint8_t *term,
                 const char **cached_bytes) {
    Entry *e = find(of == TermOf::plaintext ? terms : transit_terms, keyring_id, static_cast<int32>(term_size),
                    static_cast<Oid>(type), bytes, size, index_version);
    if (e == nullptr)
        return false;
    std::memcpy(term, e->value, term_size);
    if (cached_bytes != nullptr)
        *cached_bytes = reinterpret_cast<const char *>(e->key);
    return true;
}

std::uint64_t transaction_cache_generation() {
    return generation;
}

void cache_term(TermOf of, core::ValueType type, std::uint32_t keyring_id, std::uint32_t index_version,
                std::size_t term_size, const char *bytes, std::size_t size, const std::uint8_t *term) {
    insert(of == TermOf::plaintext ? terms : transit_terms, keyring_id, static_cast<int32>(term_size),
           static_cast<Oid>(type), bytes, size, term, term_size, index_version);
}

}  // namespace colcrypt::pg
