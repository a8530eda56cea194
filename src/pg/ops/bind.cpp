// colcrypt._bind: comparison operands bound to a column's keyring.  See
// include/colcrypt/pg/ops/bind.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

#include "colcrypt/pg/compat/array_elements.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/ops/bind.hpp"
#include "colcrypt/pg/ops/call_site_memo.hpp"
#include "colcrypt/pg/state/transaction_cache.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/plaintext_codec.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

namespace colcrypt::pg {
namespace {

// Above zero while the planner runs.
int planning_depth = 0;

// The value type of what a _bind call returns: an encrypted type, or an
// array of one.  Only the arrays' is looked up in the catalog: the single
// value's runs at every execution of a generic plan.
core::ValueType result_value_type(FunctionCallInfo fcinfo, bool returns_array) {
    Oid result = get_fn_expr_rettype(fcinfo->flinfo);
    const EncryptedType *type = encrypted_type_of(returns_array ? get_element_type(result) : result);
    if (type == nullptr)
        elog(ERROR, "colcrypt._bind called for a type that is not encrypted");
    return type->value_type;
}

using BindCompute = Datum (*)(FunctionCallInfo fcinfo, core::ValueType type, Datum input, int32 typmod);

Datum memoized_bind(FunctionCallInfo fcinfo, BindCompute compute, bool returns_array) {
    struct varlena *input = PG_GETARG_VARLENA_PP(0);
    int32 typmod = PG_GETARG_INT32(1);
    const char *bytes = VARDATA_ANY(input);
    std::size_t size = VARSIZE_ANY_EXHDR(input);
    Oid user = GetUserId();
    // Search values carry terms of the keyring's order key: one made before
    // a blind-index key cut-over is made again (docs/design/reencryption.md, section 7).
    std::uint32_t index_version = typmod >= 0 ? order_index_version_for_typmod(typmod) : 0;
    // The user: whose privileges computed the result (a cursor may be read
    // after SET ROLE).
    CallSiteKey key{{(std::uint64_t) user, (std::uint64_t) (std::uint32_t) typmod, index_version}};
    Datum result;
    if (recall_call_site(fcinfo->flinfo, key, bytes, size, &result))
        return result;

    Oid function = fcinfo->flinfo->fn_oid;
    if (struct varlena *known = cached_binding(function, typmod, index_version, bytes, size)) {
        result = PointerGetDatum(known);
    } else {
        result = compute(fcinfo, result_value_type(fcinfo, returns_array), PointerGetDatum(input), typmod);
        if (planning_depth > 0)
            cache_binding(function, typmod, index_version, bytes, size, (struct varlena *) DatumGetPointer(result));
    }
    return remember_call_site(fcinfo->flinfo, key, bytes, size, result, false);
}

// An array element of another keyring or none (a transit value) becomes a
// search value of the column's keyring (types/value_codec.hpp), so that the
// btree can sort the array's keys in its own order.  Nothing is sealed under
// the keyring: lookups need no encrypt privilege and spend none of its
// nonce budget.
Datum bind_one_value(core::ValueType type, Datum input, int32 typmod) {
    return PointerGetDatum(search_value_for(type, (struct varlena *) DatumGetPointer(input), typmod));
}

// A single value: a transit value (an untyped parameter, a literal) stays
// as it is.  Comparisons take its term under the column's keyring from the
// transaction cache (ops/equality.cpp), computed once; sealing it again
// under the column's keyring would cost an encryption per execution and
// spend the column's nonce budget on reads.  Values of another keyring
// become search values.  (So do longer values than the cache takes: their
// terms would be computed again at every comparison.)
Datum bind_single_value(FunctionCallInfo, core::ValueType type, Datum input, int32 typmod) {
    auto *value = (struct varlena *) DatumGetPointer(input);
    if (VARSIZE_ANY_EXHDR(value) <= kMaxCachedSize && is_transit_value(value))
        return input;
    return bind_one_value(type, input, typmod);
}

// A plaintext element: a search value, whose plaintext is cached, so that
// comparisons with it never decrypt it.
Datum bind_one_plaintext(core::ValueType type, Datum input, int32 typmod) {
    // An int4 or a date is not a varlena: its sealed form is (types/plaintext_codec.hpp).
    struct varlena *plaintext = sealed_form_of(type, input);
    return PointerGetDatum(make_search_value(type, VARDATA_ANY(plaintext), VARSIZE_ANY_EXHDR(plaintext), typmod));
}

// Arrays of encrypted values or of plaintexts: every element bound.
Datum bind_array(FunctionCallInfo fcinfo, core::ValueType type, Datum input, int32 typmod) {
    ArrayType *array = DatumGetArrayTypeP(input);
    ArrayElements elements = array_elements(array);
    Oid result_type = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
    bool plaintexts = encrypted_type_of(elements.type) == nullptr;
    for (int i = 0; i < elements.count; i++) {
        if (elements.nulls[i])
            continue;
        elements.values[i] = plaintexts ? bind_one_plaintext(type, elements.values[i], typmod)
                                        : bind_one_value(type, elements.values[i], typmod);
    }
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(result_type, &length, &by_value, &align);
    ArrayType *result = construct_md_array(elements.values, elements.nulls, ARR_NDIM(array), ARR_DIMS(array),
                                           ARR_LBOUND(array), result_type, length, by_value, align);
    return PointerGetDatum(result);
}

}  // namespace

void bind_planning_begins() {
    planning_depth++;
}

void bind_planning_ends() {
    planning_depth--;
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_bind_value);
PG_FUNCTION_INFO_V1(colcrypt_bind_array);
}

extern "C" Datum colcrypt_bind_value(PG_FUNCTION_ARGS) {
    return memoized_bind(fcinfo, bind_single_value, false);
}

extern "C" Datum colcrypt_bind_array(PG_FUNCTION_ARGS) {
    return memoized_bind(fcinfo, bind_array, true);
}
