// The functions behind an index over blind-index terms
// (docs/design/lookup-index.md):
//
//   colcrypt.term(value)               the term stored in the value's
//                                      header, as int8: what the index holds
//   colcrypt._search_term(x, typmod, k) x's term under the column keyring's
//                                      order key (k = 0) or the key new
//                                      values are sealed with (k = 1)
//   colcrypt._search_terms(xs, typmod) both terms of every element
//   colcrypt._rechecked(value)         the value: marks the comparison the
//                                      planner hook keeps as the recheck
//
// The planner hook (planner/term_index_quals.cpp) writes `col = x` as
// `_rechecked(col) = x AND term(col) = _search_term(x, m, 0)`, or during a
// blind-index key rotation `... = ANY(ARRAY[_search_term(x, m, 0),
// _search_term(x, m, 1)])` (a constant x's terms it computes itself, with
// search_term_for).  A value equal to x carries one of those terms,
// whichever index key its data version is bound to, so the term qual never
// drops a row the comparison would keep; the comparison, rechecked on
// every row, drops the rows whose term merely collides.
//
// The search terms need no grant: a search value made by _bind for anyone
// (docs/design/encrypt-privilege.md) carries the same term in its header,
// and a role that can read a column can test any guess with `=` already.
#include "colcrypt/pg/compat/postgres.hpp"


extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/compat/array_elements.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/ops/call_site_memo.hpp"
#include "colcrypt/pg/ops/equality.hpp"
#include "colcrypt/pg/ops/term_index.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/plaintext_codec.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_term);
PG_FUNCTION_INFO_V1(colcrypt_search_term);
PG_FUNCTION_INFO_V1(colcrypt_search_terms);
PG_FUNCTION_INFO_V1(colcrypt_rechecked);
}

namespace colcrypt::pg {
namespace {

// A search operand as equality.hpp takes it.
struct SearchOperand {
    core::ValueType type;
    bool is_plaintext;
    struct varlena *value;
};

// An operand of SQL type `type` (a domain counts as its base type): an
// encrypted value, or a plaintext of a type an encrypted type compares with.
SearchOperand search_operand(Oid type, Datum datum) {
    Oid base = getBaseType(type);
    if (const EncryptedType *encrypted = encrypted_type_of(base))
        return {encrypted->value_type, false, PG_DETOAST_DATUM_PACKED(datum)};
    for (const EncryptedType &candidate : kEncryptedTypes) {
        bool compared = base == candidate.plaintext_type;
        for (Oid other : candidate.also_compared_with)
            compared = compared || (OidIsValid(other) && base == other);
        if (!compared)
            continue;
        struct varlena *sealed = sealed_form_of(candidate.value_type, datum);
        return {candidate.value_type, true, base == BPCHAROID ? bpchar_as_text(sealed) : sealed};
    }
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("colcrypt._search_term cannot make a term of type %s", format_type_be(type)),
                    errhint("It is called by colcrypt's planner hook with an encrypted value or its plaintext.")));
    pg_unreachable();
}

// The term of operand under the keyring of typmod, as colcrypt.term
// shows a stored one.  A keyring that keeps no terms has no index over
// them: a plan made when it had one (the keyring dropped and made again
// under its name) is refused rather than left to find nothing.
std::int64_t search_term_number(const SearchOperand &operand, int32 typmod, SearchKey which) {
    std::uint32_t keyring_id = keyring_id_for_typmod(typmod);
    std::uint8_t term[core::kMaxTermSize];
    std::size_t size;
    if (!search_operand_term(operand.type, operand.is_plaintext, operand.value, keyring_id, which, term, &size)) {
        char *name = keyring_name_for_typmod(typmod);
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" keeps no blind-index terms", name ? name : "?"),
                        errdetail("The query was planned for an index over colcrypt.term()."),
                        errhint("Run the query again: it is planned anew.")));
    }
    return core::term_index_key(term, size);
}

// What else a call site's remembered search terms depend on: a cut-over
// changes the order key.
CallSiteKey search_key(int32 typmod, int32 which) {
    return CallSiteKey{{(std::uint64_t) (std::uint32_t) typmod, (std::uint64_t) which,
                        order_index_version_for_typmod(typmod)}};
}

}  // namespace

std::int64_t search_term_for(Oid type, Datum operand, int32 typmod, SearchKey which) {
    return search_term_number(search_operand(type, operand), typmod, which);
}

// The terms of each non-null element (a NULL element matches nothing, as
// in = ANY): one, or two during a blind-index key rotation.
ArrayType *search_terms_for(ArrayType *operands, int32 typmod) {
    ArrayElements elements = array_elements(operands);
    Datum *terms = static_cast<Datum *>(palloc(sizeof(Datum) * (2 * elements.count + 1)));
    int count = 0;
    for (int i = 0; i < elements.count; i++) {
        if (elements.nulls[i])
            continue;
        SearchOperand operand = search_operand(elements.type, elements.values[i]);
        std::int64_t order = search_term_number(operand, typmod, SearchKey::order);
        std::int64_t sealing = search_term_number(operand, typmod, SearchKey::sealing);
        terms[count++] = Int64GetDatum(order);
        if (sealing != order)  // during a blind-index key rotation
            terms[count++] = Int64GetDatum(sealing);
    }
    return construct_array(terms, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.term(value) returns bigint: from the header alone.
extern "C" Datum colcrypt_term(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_PP(0);
    colcrypt::core::TermView view;
    if (colcrypt::core::peek_term(reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value)),
                                  VARSIZE_ANY_EXHDR(value), &view))
        PG_RETURN_INT64(colcrypt::core::term_index_key(view.term, view.term_size));
    // The less common shapes (long keyring ids, no term) the full parse
    // reads; a malformed value is an error there.
    colcrypt::core::Envelope envelope = parse_value(value);
    if (envelope.term_size == 0)
        PG_RETURN_NULL();
    PG_RETURN_INT64(colcrypt::core::term_index_key(envelope.term, envelope.term_size));
}

// colcrypt._search_term(operand anyelement, typmod integer, key integer)
// returns bigint.
extern "C" Datum colcrypt_search_term(PG_FUNCTION_ARGS) {
    SearchOperand operand = search_operand(get_fn_expr_argtype(fcinfo->flinfo, 0), PG_GETARG_DATUM(0));
    int32 typmod = PG_GETARG_INT32(1);
    int32 which = PG_GETARG_INT32(2) == 0 ? 0 : 1;
    const char *bytes = VARDATA_ANY(operand.value);
    std::size_t size = VARSIZE_ANY_EXHDR(operand.value);
    // A scan's filter calls it for every row with the same operand.
    CallSiteKey key = search_key(typmod, which);
    Datum result;
    if (recall_call_site(fcinfo->flinfo, key, bytes, size, &result))
        return result;
    std::int64_t term = search_term_number(operand, typmod, which == 0 ? SearchKey::order : SearchKey::sealing);
    return remember_call_site(fcinfo->flinfo, key, bytes, size, Int64GetDatum(term), FLOAT8PASSBYVAL);
}

// colcrypt._search_terms(operands anyarray, typmod integer) returns
// bigint[].
extern "C" Datum colcrypt_search_terms(PG_FUNCTION_ARGS) {
    struct varlena *operands = PG_GETARG_VARLENA_PP(0);
    int32 typmod = PG_GETARG_INT32(1);
    const char *bytes = VARDATA_ANY(operands);
    std::size_t size = VARSIZE_ANY_EXHDR(operands);
    CallSiteKey key = search_key(typmod, 0);
    Datum result;
    if (recall_call_site(fcinfo->flinfo, key, bytes, size, &result))
        return result;
    ArrayType *terms = search_terms_for(DatumGetArrayTypeP(PointerGetDatum(operands)), typmod);
    return remember_call_site(fcinfo->flinfo, key, bytes, size, PointerGetDatum(terms), false);
}

// colcrypt._rechecked(value anyelement) returns anyelement.
extern "C" Datum colcrypt_rechecked(PG_FUNCTION_ARGS) {
    PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}
