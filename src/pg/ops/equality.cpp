// Comparison operators of encrypted values: =, <> and the btree order, with
// each other and with their plaintext type.  The order itself is
// core/comparison.hpp's; this file finds the terms and, when those leave it
// undecided, the plaintexts.
//
// Plaintext on the other side (a text argument, or a transit value not yet
// bound to a keyring) is placed in the order of the encrypted side's keyring
// by computing its term under that keyring, once per transaction
// (state/transaction_cache.hpp).
//
// Every term compared is one under the keyring's order key.  During a
// blind-index key rotation (docs/design/reencryption.md, section 7) the
// values of data versions bound to the new index key carry terms the order
// does not know: those are decrypted and their term under the order key
// computed (key_cache.hpp, term_under_order_key), so that an index keeps
// one order and UNIQUE one notion of equal.  Values of two different keyrings have
// unrelated terms, so no order can be consistent for both: comparing them
// is an error that names both keyrings, never a wrong answer.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
}

#include "colcrypt/core/comparison.hpp"
#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/keyring_policy.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/ops/equality.hpp"
#include "colcrypt/pg/state/transaction_cache.hpp"
#include "colcrypt/pg/types/plaintext_codec.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

using colcrypt::core::ValueType;

namespace colcrypt::pg {
namespace {

// One side of a comparison: an encrypted value or a plaintext.
struct Operand {
    ValueType type;
    struct varlena *datum;
    bool is_plaintext;
    core::Envelope envelope;  // when !is_plaintext
    // Plaintext, found or decrypted on first need (nullptr until then).
    const char *plaintext;
    std::size_t plaintext_size;
    bool decrypted;           // decrypted here: to be cached, then wiped
};

Operand encrypted_operand(ValueType type, struct varlena *datum) {
    Operand op{};
    op.type = type;
    op.datum = datum;
    op.envelope = parse_value(datum);
    return op;
}

Operand plaintext_operand(ValueType type, struct varlena *datum) {
    Operand op{};
    op.type = type;
    op.datum = datum;
    op.is_plaintext = true;
    op.plaintext = VARDATA_ANY(datum);
    op.plaintext_size = VARSIZE_ANY_EXHDR(datum);
    return op;
}

// The keyring an operand belongs to; 0 for plaintext and transit values.
std::uint32_t keyring_of(const Operand &op) {
    return op.is_plaintext ? core::kTransitKeyringId : op.envelope.keyring_id;
}

// Decrypted only to compare, without the decrypt-privilege check: nothing
// is shown to the caller.
void need_plaintext(Operand &op) {
    if (op.plaintext != nullptr)
        return;
    if ((op.plaintext = cached_plaintext(op.type, op.datum, &op.plaintext_size)) != nullptr)
        return;
    op.plaintext = decrypt_for_comparison(op.type, op.envelope, &op.plaintext_size);
    op.decrypted = true;
}

// Cached only once the comparison is done: caching may replace the entry
// the other operand's plaintext points to.
void release(Operand &op) {
    if (op.decrypted) {
        auto *plaintext = const_cast<char *>(op.plaintext);
        cache_plaintext(op.type, op.datum, plaintext, op.plaintext_size);
        core::secure_wipe(plaintext, op.plaintext_size);
        pfree(plaintext);
        op.plaintext = nullptr;
        op.decrypted = false;
    }
}

int order_by_plaintexts(Operand &a, Operand &b, core::Normalization normalization) {
    need_plaintext(a);
    need_plaintext(b);
    // Other types: by their base type's own equality (types/plaintext_codec.hpp).
    if (a.type != ValueType::text)
        return order_sealed_plaintexts(a.type, normalization, a.plaintext, a.plaintext_size, b.plaintext,
                                       b.plaintext_size);
    return core::order_by_plaintexts(normalization, reinterpret_cast<const std::uint8_t *>(a.plaintext),
                                     a.plaintext_size, reinterpret_cast<const std::uint8_t *>(b.plaintext),
                                     b.plaintext_size);
}

[[noreturn]] void report_different_keyrings(std::uint32_t a, std::uint32_t b) {
    char *name_a = keyring_name_for_id(a);
    char *name_b = keyring_name_for_id(b);
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot compare values of keyrings \"%s\" and \"%s\"", name_a ? name_a : "?",
                           name_b ? name_b : "?"),
                    errdetail("Blind-index terms of different keyrings are unrelated."),
                    errhint("Compare the plaintexts instead, as in a::text = b::text.")));
    pg_unreachable();
}

// The common keyring of two operands (0 when neither has one).
std::uint32_t common_keyring(const Operand &a, const Operand &b) {
    std::uint32_t ka = keyring_of(a), kb = keyring_of(b);
    if (ka != core::kTransitKeyringId && kb != core::kTransitKeyringId && ka != kb)
        report_different_keyrings(ka, kb);
    return ka != core::kTransitKeyringId ? ka : kb;
}

// The operand's term of `size` bytes under keyring's order key: the stored
// one when it has that, else computed from its plaintext (the compared
// size, or the full term that breaks ties under index order 2), once per
// transaction for plaintexts and transit values (search values, compared
// with row after row) and for stored values whose term is under another
// index key (a sort compares each of them many times).
const std::uint8_t *term_of(Operand &op, std::uint32_t keyring, const IndexKey &key, std::size_t size,
                            std::uint8_t *scratch) {
    bool stored_under_order_key = !op.is_plaintext && term_under_order_key(key, op.envelope.key_version);
    if (!op.is_plaintext && op.envelope.keyring_id == keyring && key.policy.stores_terms() &&
        op.envelope.term_size == size && stored_under_order_key)
        return op.envelope.term;
    // Plaintexts, transit values and search values: the session's own
    // operands, compared with row after row.
    bool cached = op.is_plaintext || op.envelope.keyring_id == core::kTransitKeyringId ||
                  core::is_search_value(op.envelope) || !stored_under_order_key;
    TermOf of = op.is_plaintext ? TermOf::plaintext : TermOf::transit_value;
    const char *bytes = op.is_plaintext ? op.plaintext : VARDATA_ANY(op.datum);
    std::size_t bytes_size = op.is_plaintext ? op.plaintext_size : VARSIZE_ANY_EXHDR(op.datum);
    if (cached && cached_term(of, op.type, keyring, key.order_version, size, bytes, bytes_size, scratch))
        return scratch;
    need_plaintext(op);
    cpp_guard([&] {
        const auto *plaintext = reinterpret_cast<const std::uint8_t *>(op.plaintext);
        if (size == core::kMaxTermSize)
            core::full_term(*key.index, key.policy, op.type, plaintext, op.plaintext_size, scratch);
        else
            core::comparison_term(*key.index, key.policy, op.type, plaintext, op.plaintext_size, scratch);
    });
    if (cached)
        cache_term(of, op.type, keyring, key.order_version, size, bytes, bytes_size, scratch);
    return scratch;
}

// The btree order (core/comparison.hpp): compared terms within a keyring;
// where they tie, the full keyed terms (index order 2) or the plaintexts
// (order 1); plaintexts between values of no keyring.
int compare_operands(Operand &a, Operand &b) {
    std::uint32_t keyring = common_keyring(a, b);
    core::TermOrder order = core::TermOrder::undecided;
    core::Normalization normalization = core::Normalization::none;
    if (keyring != core::kTransitKeyringId) {
        IndexKey key = index_key_for_keyring(keyring);
        normalization = key.policy.normalization();
        if (key.index != nullptr) {
            std::uint8_t scratch_a[core::kMaxTermSize], scratch_b[core::kMaxTermSize];
            std::size_t size = key.policy.compared_term_size();
            order = core::order_by_terms(term_of(a, keyring, key, size, scratch_a),
                                         term_of(b, keyring, key, size, scratch_b), size);
            // Under index order 2, values whose short terms tie are ordered
            // by their full keyed terms.  Equal values tie there too, and a
            // lookup decrypts its match anyway to confirm it: settle
            // equality from the plaintexts first, so that the common case
            // (the search value meets its own match in the index) computes
            // no full term.  Unequal values are still ordered by full term,
            // never by plaintext.
            if (order == core::TermOrder::undecided && key.policy.ties_by_full_term())
                order = order_by_plaintexts(a, b, normalization) == 0
                            ? core::TermOrder::equal
                            : core::order_by_terms(term_of(a, keyring, key, core::kMaxTermSize, scratch_a),
                                                   term_of(b, keyring, key, core::kMaxTermSize, scratch_b),
                                                   core::kMaxTermSize);
        }
    }
    int c = order != core::TermOrder::undecided ? core::order_sign(order) : order_by_plaintexts(a, b, normalization);
    release(a);
    release(b);
    return c;
}

// Equality: terms decide when they differ or are conclusive; otherwise the
// plaintexts do, because a short truncated term can collide.  Keyrings
// without stored terms compare plaintexts at once: computing terms costs
// more than comparing the plaintexts they come from.
bool operands_equal(Operand &a, Operand &b) {
    std::uint32_t keyring = common_keyring(a, b);
    core::TermMatch match = core::TermMatch::undecided;
    core::Normalization normalization = core::Normalization::none;
    if (keyring != core::kTransitKeyringId) {
        IndexKey key = index_key_for_keyring(keyring);
        normalization = key.policy.normalization();
        // No index key (a keyring row restored without its index-key row):
        // the plaintexts decide.
        if (key.index != nullptr && key.policy.stores_terms()) {
            std::uint8_t scratch_a[core::kMaxTermSize], scratch_b[core::kMaxTermSize];
            std::size_t size = key.policy.stored_term_size();
            match = core::match_by_terms(term_of(a, keyring, key, size, scratch_a),
                                         term_of(b, keyring, key, size, scratch_b), size);
        }
    }
    bool equal = match != core::TermMatch::undecided ? match == core::TermMatch::same
                                                      : order_by_plaintexts(a, b, normalization) == 0;
    release(a);
    release(b);
    return equal;
}

enum class Test { eq, ne, lt, le, gt, ge };

Datum test_result(Test test, int c) {
    switch (test) {
    case Test::eq:
        return BoolGetDatum(c == 0);
    case Test::ne:
        return BoolGetDatum(c != 0);
    case Test::lt:
        return BoolGetDatum(c < 0);
    case Test::le:
        return BoolGetDatum(c <= 0);
    case Test::gt:
        return BoolGetDatum(c > 0);
    case Test::ge:
        return BoolGetDatum(c >= 0);
    }
    return BoolGetDatum(false);
}

Datum apply(Test test, Operand a, Operand b) {
    if (test == Test::eq)
        return BoolGetDatum(operands_equal(a, b));
    if (test == Test::ne)
        return BoolGetDatum(!operands_equal(a, b));
    return test_result(test, compare_operands(a, b));
}

bool peek(struct varlena *value, core::TermView *view) {
    return core::peek_term(reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value)), VARSIZE_ANY_EXHDR(value), view);
}

// The last search value whose term search_term found: an index descent
// compares one search value with about twenty stored values, and a scan's
// qual with every row, so the next comparison is almost always against the
// same one.  It holds no plaintext: bytes points at the transaction cache's
// copy of the search value, valid while that cache's generation lasts; the
// facts about the keyring (its order key's version and term size, no
// blind-index key rotation under way) hold while the key cache's epoch
// does.  A memo that does not match sends the comparison the general way.
struct LastSearch {
    std::uint64_t key_epoch;
    std::uint64_t cache_generation = 0;  // 0: empty (generations start at 1)
    TermOf of;
    ValueType type;
    std::uint32_t keyring_id;
    std::size_t term_size;
    const char *bytes;
    std::size_t size;
    std::uint8_t term[core::kMaxTermSize];
};
LastSearch last_search;

bool last_search_matches(ValueType type, TermOf of, const char *bytes, std::size_t size,
                         const core::TermView &stored) {
    const LastSearch &m = last_search;
    return m.cache_generation == transaction_cache_generation() && m.key_epoch == key_cache_epoch() &&
           m.keyring_id == stored.keyring_id && m.term_size == stored.term_size && m.of == of && m.type == type &&
           m.size == size && std::memcmp(m.bytes, bytes, size) == 0;
}

// search_term's work when the memo does not match: the term from the
// transaction cache or computed, and the memo set to it.
[[gnu::noinline]] const std::uint8_t *find_search_term(ValueType type, TermOf of, struct varlena *search,
                                                      const core::TermView &stored, std::uint8_t *scratch) {
    const char *bytes = VARDATA_ANY(search);
    std::size_t size = VARSIZE_ANY_EXHDR(search);
    std::uint64_t epoch = key_cache_epoch();
    IndexKey key = index_key_for_keyring(stored.keyring_id);
    if (key.index == nullptr || key.policy.stored_term_size() != stored.term_size ||
        !term_under_order_key(key, stored.key_version))
        return nullptr;
    // Cached terms are keyed by keyring, index key and size.
    const char *cached_bytes = nullptr;
    if (!cached_term(of, type, stored.keyring_id, key.order_version, stored.term_size, bytes, size, scratch,
                     &cached_bytes)) {
        Operand op = of == TermOf::plaintext ? plaintext_operand(type, search) : encrypted_operand(type, search);
        term_of(op, stored.keyring_id, key, stored.term_size, scratch);
        release(op);
        // term_of cached it (unless too long to cache): find the cache's copy.
        std::uint8_t again[core::kMaxTermSize];
        (void) cached_term(of, type, stored.keyring_id, key.order_version, stored.term_size, bytes, size, again,
                           &cached_bytes);
    }
    // Remembered only outside a blind-index key rotation, when every stored
    // version's term is under the order key.
    if (cached_bytes != nullptr && key.off_order_count == 0) {
        last_search.key_epoch = epoch;
        last_search.cache_generation = transaction_cache_generation();
        last_search.of = of;
        last_search.type = type;
        last_search.keyring_id = stored.keyring_id;
        last_search.term_size = stored.term_size;
        last_search.bytes = cached_bytes;
        last_search.size = size;
        std::memcpy(last_search.term, scratch, stored.term_size);
    }
    return scratch;
}

// The term of a search value (a plaintext, or a transit value) under the
// keyring of a stored value (view), into scratch: from the memo above or
// the transaction cache after its first computation (term_of caches it),
// so that the twenty comparisons of an index descent and a scan's qual on
// every row find it by a memcmp, without building an operand.  A transit
// value is opened for it, usually from the plaintext cache (it was sealed
// in this transaction).  Returns the memo's own copy when it matches (the
// caller compares it at once, before any other search term is found), else
// scratch.  nullptr when the keyring's index key does not have the stored
// term's size, or the stored term is not under the order key (a blind-index
// key rotation): the general path decides then.
//
// The memo's check, which nearly every comparison ends with, is inlined into
// the comparison; only a miss calls find_search_term (about 45 instructions
// less per comparison, 20 comparisons a lookup: bench/lookup_instructions.sh).
inline const std::uint8_t *search_term(ValueType type, TermOf of, struct varlena *search,
                                       const core::TermView &stored, std::uint8_t *scratch) {
    if (last_search_matches(type, of, VARDATA_ANY(search), VARSIZE_ANY_EXHDR(search), stored))
        return last_search.term;
    return find_search_term(type, of, search, stored, scratch);
}

// The transit value stored_terms last found a term for, as its second
// operand: where the next comparison's is likely to be.
const struct varlena *last_transit_operand = nullptr;

// The stored terms of two encrypted values when they can be compared as
// they are: same keyring, terms of the size the keyring stores, and the
// common envelope shape (core::peek_term); or one such value and a transit
// value (a search value that _bind left as it is), with its term under that
// keyring from search_term (the memo's copy or scratch).  Otherwise false,
// and the general path decides, reporting any error.  Index scans compare
// their search value with about twenty stored values per lookup, and a
// scan's qual with every row; this spares each comparison a full parse of
// both.
bool stored_terms(ValueType type, struct varlena *a, struct varlena *b, std::uint8_t *scratch,
                  const std::uint8_t **ta, const std::uint8_t **tb, std::size_t *size) {
    core::TermView va, vb;
    bool a_stored = peek(a, &va);
    // The common case first: a stored value and the same search value as
    // the last comparison's (btree passes its search value second, and so
    // does a scan's qual).  The pointer only filters: the memo's bytes
    // decide, and it holds only transit values that passed the checks below.
    // This spares the search value's peek and parse, about 1,100
    // instructions of an untyped lookup's twenty comparisons, and costs a
    // sort of stored values one comparison of pointers.
    if (a_stored && b == last_transit_operand &&
        last_search_matches(type, TermOf::transit_value, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), va)) {
        *ta = va.term;
        *tb = last_search.term;
        *size = va.term_size;
        return true;
    }
    bool b_stored = peek(b, &vb);
    if (a_stored && b_stored) {
        if (va.keyring_id != vb.keyring_id || va.term_size != vb.term_size)
            return false;
        IndexKey key = index_key_for_keyring(va.keyring_id);
        if (key.index == nullptr || key.policy.stored_term_size() != va.term_size ||
            !term_under_order_key(key, va.key_version) || !term_under_order_key(key, vb.key_version))
            return false;
        *ta = va.term;
        *tb = vb.term;
    } else if (a_stored && is_transit_value(b)) {
        if ((*tb = search_term(type, TermOf::transit_value, b, va, scratch)) == nullptr)
            return false;
        last_transit_operand = b;
        *ta = va.term;
    } else if (b_stored && is_transit_value(a)) {
        if ((*ta = search_term(type, TermOf::transit_value, a, vb, scratch)) == nullptr)
            return false;
        *tb = vb.term;
        va = vb;
    } else {
        return false;
    }
    *size = va.term_size;
    return true;
}

// Stored terms settle a test without decrypting when they differ, or when
// they are equal and conclusive (compared in constant time for = and <>,
// like the general path); otherwise false, and the general path decides.
bool settled_by_terms(Test test, const std::uint8_t *ta, const std::uint8_t *tb, std::size_t size, Datum *result) {
    if (test == Test::eq || test == Test::ne) {
        core::TermMatch match = core::match_by_terms(ta, tb, size);
        if (match == core::TermMatch::undecided)
            return false;
        *result = BoolGetDatum((match == core::TermMatch::same) == (test == Test::eq));
        return true;
    }
    core::TermOrder order = core::order_by_terms(ta, tb, size);
    if (order == core::TermOrder::undecided)
        return false;
    *result = test_result(test, core::order_sign(order));
    return true;
}

// Two encrypted values: stored terms settle most tests without decrypting;
// anything else goes the general way.
Datum apply_encrypted(ValueType type, Test test, struct varlena *a, struct varlena *b) {
    const std::uint8_t *ta, *tb;
    std::uint8_t scratch[core::kMaxTermSize];
    std::size_t size;
    Datum result;
    if (stored_terms(type, a, b, scratch, &ta, &tb, &size) && settled_by_terms(test, ta, tb, size, &result))
        return result;
    return apply(test, encrypted_operand(type, a), encrypted_operand(type, b));
}

// The stored term of an encrypted value and the term of a plaintext under
// the same keyring (search_term's: the memo's or scratch), when the value
// has the term its keyring stores; otherwise false, and the general path
// decides (and reports any error).
bool stored_and_plaintext_terms(ValueType type, struct varlena *value, struct varlena *plaintext,
                                std::uint8_t *scratch, const std::uint8_t **value_term,
                                const std::uint8_t **plaintext_term, std::size_t *size) {
    core::TermView v;
    if (!peek(value, &v))
        return false;
    *plaintext_term = search_term(type, TermOf::plaintext, plaintext, v, scratch);
    if (*plaintext_term == nullptr)
        return false;
    *value_term = v.term;
    *size = v.term_size;
    return true;
}

// An encrypted value and a plaintext: terms settle = and <> as for two
// encrypted values; anything else goes the general way.
Datum apply_with_plaintext(ValueType type, Test test, struct varlena *value, struct varlena *plaintext) {
    const std::uint8_t *tv, *tt;
    std::uint8_t scratch[core::kMaxTermSize];
    std::size_t size;
    Datum result;
    if (stored_and_plaintext_terms(type, value, plaintext, scratch, &tv, &tt, &size) &&
        settled_by_terms(test, tv, tt, size, &result))
        return result;
    return apply(test, encrypted_operand(type, value), plaintext_operand(type, plaintext));
}

// btree support function 1 for two encrypted values: by stored terms when
// they differ (the common case) or are conclusive, else the general order.
int order_encrypted(ValueType type, struct varlena *va, struct varlena *vb) {
    const std::uint8_t *ta, *tb;
    std::uint8_t scratch[core::kMaxTermSize];
    std::size_t size;
    if (stored_terms(type, va, vb, scratch, &ta, &tb, &size)) {
        core::TermOrder order = core::order_by_terms(ta, tb, size);
        if (order != core::TermOrder::undecided)
            return core::order_sign(order);
    }
    Operand a = encrypted_operand(type, va), b = encrypted_operand(type, vb);
    return compare_operands(a, b);
}

// btree support function 1 for (encrypted, plaintext): the plaintext placed
// in the order of the encrypted value's keyring, which is the order of the
// plaintext sealed under that keyring.  This is what lets an index on an
// encrypted column serve `col = <plaintext>` directly: no sealing of the
// search value, and its term is computed once per transaction.  The btree
// calls it through a new FmgrInfo for every descent: nothing may be
// allocated per call site here.
int order_with_plaintext(ValueType type, struct varlena *value, struct varlena *plaintext) {
    const std::uint8_t *tv, *tt;
    std::uint8_t scratch[core::kMaxTermSize];
    std::size_t size;
    if (stored_and_plaintext_terms(type, value, plaintext, scratch, &tv, &tt, &size)) {
        core::TermOrder order = core::order_by_terms(tv, tt, size);
        if (order != core::TermOrder::undecided)
            return core::order_sign(order);
    }
    Operand a = encrypted_operand(type, value), b = plaintext_operand(type, plaintext);
    return compare_operands(a, b);
}

}  // namespace

bool search_operand_term(ValueType type, bool is_plaintext, struct varlena *operand, std::uint32_t keyring_id,
                         SearchKey which, std::uint8_t *term, std::size_t *size) {
    IndexKey key = index_key_for_keyring(keyring_id);
    if (key.index == nullptr || !key.policy.stores_terms())
        return false;
    bool sealing = which == SearchKey::sealing && key.sealing != nullptr;
    core::BlindIndex &index = sealing ? *key.sealing : *key.index;
    std::uint32_t version = sealing ? key.sealing_version : key.order_version;
    *size = key.policy.stored_term_size();
    TermOf of = is_plaintext ? TermOf::plaintext : TermOf::transit_value;
    if (cached_term(of, type, keyring_id, version, *size, VARDATA_ANY(operand), VARSIZE_ANY_EXHDR(operand), term))
        return true;
    Operand op = is_plaintext ? plaintext_operand(type, operand) : encrypted_operand(type, operand);
    if (!is_plaintext && op.envelope.keyring_id != core::kTransitKeyringId && op.envelope.keyring_id != keyring_id)
        report_different_keyrings(op.envelope.keyring_id, keyring_id);
    need_plaintext(op);
    cpp_guard([&] {
        core::comparison_term(index, key.policy, type, reinterpret_cast<const std::uint8_t *>(op.plaintext),
                              op.plaintext_size, term);
    });
    cache_term(of, type, keyring_id, version, *size, VARDATA_ANY(operand), VARSIZE_ANY_EXHDR(operand), term);
    release(op);
    return true;
}

// Trailing spaces are what bpchar's own comparisons ignore; no copy in the
// common case.
struct varlena *bpchar_as_text(struct varlena *value) {
    const char *data = VARDATA_ANY(value);
    std::size_t size = VARSIZE_ANY_EXHDR(value), trimmed = size;
    while (trimmed > 0 && data[trimmed - 1] == ' ')
        trimmed--;
    if (trimmed == size)
        return value;
    auto *text = static_cast<struct varlena *>(palloc(VARHDRSZ + trimmed));
    SET_VARSIZE(text, VARHDRSZ + trimmed);
    std::memcpy(VARDATA(text), data, trimmed);
    return text;
}

// PG_GETARG_VARLENA_PP without its call in the common case: an index
// descent calls a comparison about twenty times per lookup, each with two
// arguments that are neither compressed nor stored out of line.  The test
// is pg_detoast_datum_packed's own.
inline struct varlena *packed_arg(FunctionCallInfo fcinfo, int n) {
    auto *value = reinterpret_cast<struct varlena *>(DatumGetPointer(fcinfo->args[n].value));
    if (unlikely(VARATT_IS_COMPRESSED(value) || VARATT_IS_EXTERNAL(value)))
        return pg_detoast_datum_packed(value);
    return value;
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

#define PACKED_ARG(n) packed_arg(fcinfo, n)

// One SQL-callable function per operator and argument pair.  The names are
// those 0.1.0's SQL declares, and stay.
#define PLAINTEXT_COMPARISON(name, type, test, encrypted_arg, plaintext_arg)                        \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return apply_with_plaintext(type, test, PACKED_ARG(encrypted_arg),                         \
                                    PACKED_ARG(plaintext_arg));                                    \
    }
#define ENCRYPTED_COMPARISON(name, type, test)                                                     \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return apply_encrypted(type, test, PACKED_ARG(0), PACKED_ARG(1));                          \
    }
#define ORDER_FUNCTIONS(encrypted_name, plaintext_name, type)                                      \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(encrypted_name);                                                           \
    PG_FUNCTION_INFO_V1(plaintext_name);                                                           \
    }                                                                                              \
    extern "C" Datum encrypted_name(PG_FUNCTION_ARGS) {                                            \
        PG_RETURN_INT32(order_encrypted(type, PACKED_ARG(0), PACKED_ARG(1)));                      \
    }                                                                                              \
    extern "C" Datum plaintext_name(PG_FUNCTION_ARGS) {                                            \
        PG_RETURN_INT32(order_with_plaintext(type, PACKED_ARG(0), PACKED_ARG(1)));                 \
    }

// character(n) operands: compared as the text they cast to (0.2.0).  text
// and varchar share the functions above.
#define BPCHAR_COMPARISON(name, type, test, encrypted_arg, bpchar_arg)                              \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return apply_with_plaintext(type, test, PACKED_ARG(encrypted_arg),                         \
                                    bpchar_as_text(PACKED_ARG(bpchar_arg)));                       \
    }

ENCRYPTED_COMPARISON(colcrypt_encrypted_text_eq, ValueType::text, Test::eq)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_ne, ValueType::text, Test::ne)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_lt, ValueType::text, Test::lt)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_le, ValueType::text, Test::le)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_gt, ValueType::text, Test::gt)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_ge, ValueType::text, Test::ge)
PLAINTEXT_COMPARISON(colcrypt_encrypted_text_eq_text, ValueType::text, Test::eq, 0, 1)
PLAINTEXT_COMPARISON(colcrypt_encrypted_text_ne_text, ValueType::text, Test::ne, 0, 1)
PLAINTEXT_COMPARISON(colcrypt_text_eq_encrypted_text, ValueType::text, Test::eq, 1, 0)
PLAINTEXT_COMPARISON(colcrypt_text_ne_encrypted_text, ValueType::text, Test::ne, 1, 0)
ORDER_FUNCTIONS(colcrypt_encrypted_text_cmp, colcrypt_encrypted_text_cmp_text, ValueType::text)
BPCHAR_COMPARISON(colcrypt_encrypted_text_eq_bpchar, ValueType::text, Test::eq, 0, 1)
BPCHAR_COMPARISON(colcrypt_encrypted_text_ne_bpchar, ValueType::text, Test::ne, 0, 1)
BPCHAR_COMPARISON(colcrypt_bpchar_eq_encrypted_text, ValueType::text, Test::eq, 1, 0)
BPCHAR_COMPARISON(colcrypt_bpchar_ne_encrypted_text, ValueType::text, Test::ne, 1, 0)

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_cmp_bpchar);
}

extern "C" Datum colcrypt_encrypted_text_cmp_bpchar(PG_FUNCTION_ARGS) {
    PG_RETURN_INT32(order_with_plaintext(ValueType::text, PACKED_ARG(0),
                                         bpchar_as_text(PACKED_ARG(1))));
}

// The other encrypted types (types/encrypted_value.cpp): the same
// comparisons, with the plaintext type's datum put in its sealed form
// (types/plaintext_codec.hpp) on the plaintext side.  One line per type.
#define TYPED_PLAINTEXT_COMPARISON(name, type, test, encrypted_arg, plaintext_arg)                  \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return apply_with_plaintext(type, test, PACKED_ARG(encrypted_arg),                         \
                                    sealed_form_of(type, PG_GETARG_DATUM(plaintext_arg)));         \
    }
#define TYPED_ORDER_WITH_PLAINTEXT(name, type)                                                     \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        PG_RETURN_INT32(order_with_plaintext(type, PACKED_ARG(0),                                  \
                                             sealed_form_of(type, PG_GETARG_DATUM(1))));           \
    }
#define ENCRYPTED_ORDER(name, type)                                                                \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        PG_RETURN_INT32(order_encrypted(type, PACKED_ARG(0), PACKED_ARG(1)));                      \
    }
#define ENCRYPTED_TYPE_COMPARISONS(T)                                                               \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_eq, ValueType::T, Test::eq)                      \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_ne, ValueType::T, Test::ne)                      \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_lt, ValueType::T, Test::lt)                      \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_le, ValueType::T, Test::le)                      \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_gt, ValueType::T, Test::gt)                      \
    ENCRYPTED_COMPARISON(colcrypt_encrypted_##T##_ge, ValueType::T, Test::ge)                      \
    TYPED_PLAINTEXT_COMPARISON(colcrypt_encrypted_##T##_eq_##T, ValueType::T, Test::eq, 0, 1)      \
    TYPED_PLAINTEXT_COMPARISON(colcrypt_encrypted_##T##_ne_##T, ValueType::T, Test::ne, 0, 1)      \
    TYPED_PLAINTEXT_COMPARISON(colcrypt_##T##_eq_encrypted_##T, ValueType::T, Test::eq, 1, 0)      \
    TYPED_PLAINTEXT_COMPARISON(colcrypt_##T##_ne_encrypted_##T, ValueType::T, Test::ne, 1, 0)      \
    ENCRYPTED_ORDER(colcrypt_encrypted_##T##_cmp, ValueType::T)                                    \
    TYPED_ORDER_WITH_PLAINTEXT(colcrypt_encrypted_##T##_cmp_##T, ValueType::T)

ENCRYPTED_TYPE_COMPARISONS(bytea)
ENCRYPTED_TYPE_COMPARISONS(jsonb)
ENCRYPTED_TYPE_COMPARISONS(int4)
ENCRYPTED_TYPE_COMPARISONS(int8)
ENCRYPTED_TYPE_COMPARISONS(numeric)
ENCRYPTED_TYPE_COMPARISONS(date)
ENCRYPTED_TYPE_COMPARISONS(timestamptz)
