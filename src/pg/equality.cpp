// Comparison operators of encrypted_text: =, <> and the btree order, with
// each other and with text.  See include/colcrypt/pg/equality.hpp.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
}

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/equality.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/transaction_cache.hpp"
#include "colcrypt/pg/value_codec.hpp"

using colcrypt::core::ValueType;

namespace colcrypt::pg {
namespace {

constexpr ValueType kType = ValueType::text;

// One side of a comparison: an encrypted value or plaintext text.
struct Operand {
    struct varlena *datum;
    bool is_plaintext;
    core::Envelope envelope;  // when !is_plaintext
    // Plaintext, found or decrypted on first need (nullptr until then).
    const char *plaintext;
    std::size_t plaintext_size;
    bool decrypted;           // decrypted here: to be cached, then wiped
};

Operand encrypted_operand(struct varlena *datum) {
    Operand op{};
    op.datum = datum;
    op.envelope = parse_value(datum);
    return op;
}

Operand text_operand(text *datum) {
    Operand op{};
    op.datum = reinterpret_cast<struct varlena *>(datum);
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
    if ((op.plaintext = cached_plaintext(kType, op.datum, &op.plaintext_size)) != nullptr)
        return;
    op.plaintext = open_parsed_value(kType, op.envelope);
    op.plaintext_size = op.envelope.ciphertext_size;
    op.decrypted = true;
}

// Cached only once the comparison is done: caching may replace the entry
// the other operand's plaintext points to.
void release(Operand &op) {
    if (op.decrypted) {
        auto *plaintext = const_cast<char *>(op.plaintext);
        cache_plaintext(kType, op.datum, plaintext, op.plaintext_size);
        core::secure_wipe(plaintext, op.plaintext_size);
        pfree(plaintext);
        op.plaintext = nullptr;
        op.decrypted = false;
    }
}

// Plaintext order after the keyring's normalisation (none for values of no
// keyring).
int compare_plaintexts(Operand &a, Operand &b, core::Normalization normalization) {
    need_plaintext(a);
    need_plaintext(b);
    return core::compare_normalized(normalization, reinterpret_cast<const std::uint8_t *>(a.plaintext),
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

// Size of the terms compared under a keyring: the stored size, or a full
// term computed on the fly for keyrings that store none, so that values are
// never ordered by plaintext (an index would reveal that order).
std::size_t compared_term_size(const IndexKey &key) {
    return key.term_size > 0 ? key.term_size : core::kMaxTermSize;
}

// The operand's term under keyring: the stored one when it has it, else
// computed from its plaintext, once per transaction for text and transit
// values (search values, compared with row after row).
const std::uint8_t *term_of(Operand &op, std::uint32_t keyring, const IndexKey &key, std::uint8_t *scratch) {
    if (!op.is_plaintext && op.envelope.keyring_id == keyring && key.term_size > 0 &&
        op.envelope.term_size == key.term_size)
        return op.envelope.term;
    std::size_t size = compared_term_size(key);
    bool cached = op.is_plaintext || op.envelope.keyring_id == core::kTransitKeyringId;
    TermOf of = op.is_plaintext ? TermOf::plaintext : TermOf::transit_value;
    const char *bytes = op.is_plaintext ? op.plaintext : VARDATA_ANY(op.datum);
    std::size_t bytes_size = op.is_plaintext ? op.plaintext_size : VARSIZE_ANY_EXHDR(op.datum);
    if (cached && cached_term(of, keyring, size, bytes, bytes_size, scratch))
        return scratch;
    need_plaintext(op);
    cpp_guard([&] {
        key.index->term(kType, reinterpret_cast<const std::uint8_t *>(op.plaintext), op.plaintext_size, size,
                        scratch, key.normalization);
    });
    if (cached)
        cache_term(of, keyring, size, bytes, bytes_size, scratch);
    return scratch;
}

// The order: (term, plaintext) within a keyring, plaintext only between
// values of no keyring.
int compare_operands(Operand &a, Operand &b) {
    std::uint32_t keyring = common_keyring(a, b);
    int c = 0;
    bool decided = false;
    core::Normalization normalization = core::Normalization::none;
    if (keyring != core::kTransitKeyringId) {
        IndexKey key = index_key_for_keyring(keyring);
        normalization = key.normalization;
        if (key.index != nullptr) {
            std::uint8_t scratch_a[core::kMaxTermSize], scratch_b[core::kMaxTermSize];
            std::size_t size = compared_term_size(key);
            c = std::memcmp(term_of(a, keyring, key, scratch_a), term_of(b, keyring, key, scratch_b), size);
            decided = c != 0 || core::term_is_conclusive(size);
        }
    }
    if (!decided)
        c = compare_plaintexts(a, b, normalization);
    release(a);
    release(b);
    return c;
}

// Equality: different terms settle it, compared in constant time; equal
// terms settle it when they are long enough to be conclusive
// (core::kConclusiveTermSize), and are otherwise confirmed by decrypting,
// because a short truncated term can collide.
bool operands_equal(Operand &a, Operand &b) {
    std::uint32_t keyring = common_keyring(a, b);
    core::Normalization normalization = core::Normalization::none;
    if (keyring != core::kTransitKeyringId) {
        IndexKey key = index_key_for_keyring(keyring);
        normalization = key.normalization;
        // Without stored terms, computing them costs more than comparing
        // the plaintexts they come from.
        if (key.term_size > 0) {
            std::uint8_t scratch_a[core::kMaxTermSize], scratch_b[core::kMaxTermSize];
            const std::uint8_t *ta = term_of(a, keyring, key, scratch_a);
            const std::uint8_t *tb = term_of(b, keyring, key, scratch_b);
            bool equal_terms = core::constant_time_equal(ta, tb, key.term_size);
            if (!equal_terms || core::term_is_conclusive(key.term_size)) {
                release(a);
                release(b);
                return equal_terms;
            }
        }
    }
    bool equal = compare_plaintexts(a, b, normalization) == 0;
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

// The term of a search value (a text, or a transit value) under the keyring
// of a stored value (view), into scratch: from the transaction cache after
// its first computation (term_of caches it), so that the twenty comparisons
// of an index descent and a scan's qual on every row find it by a memcmp,
// without building an operand.  A transit value is opened for it, usually
// from the plaintext cache (it was sealed in this transaction).  False when
// the keyring's index key does not have the stored term's size.
bool search_term(TermOf of, struct varlena *search, const core::TermView &stored, std::uint8_t *scratch) {
    // A term is cached only under a keyring whose index key has its size.
    if (cached_term(of, stored.keyring_id, stored.term_size, VARDATA_ANY(search), VARSIZE_ANY_EXHDR(search),
                    scratch))
        return true;
    IndexKey key = index_key_for_keyring(stored.keyring_id);
    if (key.index == nullptr || key.term_size != stored.term_size)
        return false;
    Operand op = of == TermOf::plaintext ? text_operand(search) : encrypted_operand(search);
    term_of(op, stored.keyring_id, key, scratch);
    release(op);
    return true;
}

// The stored terms of two encrypted values when they can be compared as
// they are: same keyring, terms of the size the keyring stores, and the
// common envelope shape (core::peek_term); or one such value and a transit
// value (a search value that _bind left as it is), whose term under that
// keyring goes into scratch.  Otherwise false, and the general path decides,
// reporting any error.  Index scans compare their search value with about
// twenty stored values per lookup, and a scan's qual with every row; this
// spares each comparison a full parse of both.
bool stored_terms(struct varlena *a, struct varlena *b, std::uint8_t *scratch, const std::uint8_t **ta,
                  const std::uint8_t **tb, std::size_t *size) {
    core::TermView va, vb;
    bool a_stored = peek(a, &va), b_stored = peek(b, &vb);
    if (a_stored && b_stored) {
        if (va.keyring_id != vb.keyring_id || va.term_size != vb.term_size)
            return false;
        IndexKey key = index_key_for_keyring(va.keyring_id);
        if (key.index == nullptr || key.term_size != va.term_size)
            return false;
        *ta = va.term;
        *tb = vb.term;
    } else if (a_stored && is_transit_value(b)) {
        if (!search_term(TermOf::transit_value, b, va, scratch))
            return false;
        *ta = va.term;
        *tb = scratch;
    } else if (b_stored && is_transit_value(a)) {
        if (!search_term(TermOf::transit_value, a, vb, scratch))
            return false;
        *ta = scratch;
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
        bool equal = core::constant_time_equal(ta, tb, size);
        if (equal && !core::term_is_conclusive(size))
            return false;
        *result = BoolGetDatum(equal == (test == Test::eq));
        return true;
    }
    int c = std::memcmp(ta, tb, size);
    if (c == 0 && !core::term_is_conclusive(size))
        return false;
    *result = test_result(test, c);
    return true;
}

// The btree order from two terms: decided unless they are equal and short.
bool ordered_by_terms(const std::uint8_t *ta, const std::uint8_t *tb, std::size_t size, int *c) {
    *c = std::memcmp(ta, tb, size);
    return *c != 0 || core::term_is_conclusive(size);
}

// Two encrypted values: stored terms settle most tests without decrypting;
// anything else goes the general way.
Datum apply_encrypted(Test test, struct varlena *a, struct varlena *b) {
    const std::uint8_t *ta, *tb;
    std::uint8_t scratch[core::kMaxTermSize];
    std::size_t size;
    Datum result;
    if (stored_terms(a, b, scratch, &ta, &tb, &size) && settled_by_terms(test, ta, tb, size, &result))
        return result;
    return apply(test, encrypted_operand(a), encrypted_operand(b));
}

// The stored term of an encrypted value and the term of a text under the
// same keyring (into scratch, search_term), when the value has the term its
// keyring stores; otherwise false, and the general path decides (and
// reports any error).
bool stored_and_text_terms(struct varlena *value, text *plaintext, std::uint8_t *scratch,
                           const std::uint8_t **value_term, std::size_t *size) {
    core::TermView v;
    if (!peek(value, &v) || !search_term(TermOf::plaintext, plaintext, v, scratch))
        return false;
    *value_term = v.term;
    *size = v.term_size;
    return true;
}

// An encrypted value and a text: terms settle = and <> as for two encrypted
// values; anything else goes the general way.
Datum apply_with_text(Test test, struct varlena *value, text *plaintext) {
    const std::uint8_t *tv;
    std::uint8_t tt[core::kMaxTermSize];
    std::size_t size;
    Datum result;
    if (stored_and_text_terms(value, plaintext, tt, &tv, &size) && settled_by_terms(test, tv, tt, size, &result))
        return result;
    return apply(test, encrypted_operand(value), text_operand(plaintext));
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// One SQL-callable function per operator and argument pair.
#define TEXT_COMPARISON(name, test, encrypted_arg, text_arg)                   \
    extern "C" {                                                               \
    PG_FUNCTION_INFO_V1(name);                                                 \
    }                                                                          \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                  \
        return apply_with_text(test, PG_GETARG_VARLENA_PP(encrypted_arg),    \
                               PG_GETARG_TEXT_PP(text_arg));                   \
    }
#define ENCRYPTED_COMPARISON(name, test)                                       \
    extern "C" {                                                               \
    PG_FUNCTION_INFO_V1(name);                                                 \
    }                                                                          \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                  \
        return apply_encrypted(test, PG_GETARG_VARLENA_PP(0), PG_GETARG_VARLENA_PP(1)); \
    }

ENCRYPTED_COMPARISON(colcrypt_encrypted_text_eq, Test::eq)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_ne, Test::ne)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_lt, Test::lt)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_le, Test::le)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_gt, Test::gt)
ENCRYPTED_COMPARISON(colcrypt_encrypted_text_ge, Test::ge)
TEXT_COMPARISON(colcrypt_encrypted_text_eq_text, Test::eq, 0, 1)
TEXT_COMPARISON(colcrypt_encrypted_text_ne_text, Test::ne, 0, 1)
TEXT_COMPARISON(colcrypt_text_eq_encrypted_text, Test::eq, 1, 0)
TEXT_COMPARISON(colcrypt_text_ne_encrypted_text, Test::ne, 1, 0)

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_cmp);
}

// btree support function 1: by stored terms when they differ (the common
// case) or are conclusive, else the general order.
extern "C" Datum colcrypt_encrypted_text_cmp(PG_FUNCTION_ARGS) {
    struct varlena *va = PG_GETARG_VARLENA_PP(0), *vb = PG_GETARG_VARLENA_PP(1);
    const std::uint8_t *ta, *tb;
    std::uint8_t scratch[colcrypt::core::kMaxTermSize];
    std::size_t size;
    int c;
    if (!stored_terms(va, vb, scratch, &ta, &tb, &size) || !ordered_by_terms(ta, tb, size, &c)) {
        Operand a = encrypted_operand(va), b = encrypted_operand(vb);
        c = compare_operands(a, b);
    }
    PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_encrypted_text_cmp_text);
}

// btree support function 1 for (encrypted_text, text): the text placed in
// the order of the encrypted value's keyring, (term, plaintext), which is
// the order of the text sealed under that keyring.  This is what lets an
// index on an encrypted column serve `col = <text>` directly: no sealing of
// the search value, and its term is computed once per transaction.  The
// btree calls it through a new FmgrInfo for every descent: nothing may be
// allocated per call site here.
extern "C" Datum colcrypt_encrypted_text_cmp_text(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_PP(0);
    text *plaintext = PG_GETARG_TEXT_PP(1);
    const std::uint8_t *tv;
    std::uint8_t tt[colcrypt::core::kMaxTermSize];
    std::size_t size;
    int c;
    if (!stored_and_text_terms(value, plaintext, tt, &tv, &size) || !ordered_by_terms(tv, tt, size, &c)) {
        Operand a = encrypted_operand(value), b = text_operand(plaintext);
        c = compare_operands(a, b);
    }
    PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}
