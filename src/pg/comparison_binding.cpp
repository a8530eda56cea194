// Planner hook: bind the keyring-less side of a comparison to the keyring of
// the encrypted column it is compared with.
//
//   email = 'alice@example.com'      ('...' is a transit value, modifier -1)
//   email = $1                       ($1 arrives as a transit value)
//   email IN ('a', 'b')  /  email = ANY($1)  /  email = ANY($1::text[])
//
// become comparisons with colcrypt._bind(<operand>, <the column's modifier>),
// a value the column's keyring can compare with.  Then:
//   - the comparison is between values of one keyring, so the btree operator
//     class applies and the planner can use an index on the column;
//   - an operand of another keyring is re-sealed under the column's (with
//     the decrypt grant on its own) once per statement, not per row: _bind
//     remembers its last input and result;
//   - a transit value stays as it is, and comparisons take its term under
//     the column's keyring from the transaction cache (equality.cpp), so
//     reads spend none of the column key's nonce budget;
//   - array keys of an index scan are sealed under the column's keyring and
//     sorted in the index's own order.
// Only comparisons whose other side has no keyring are touched; comparisons
// between two columns are left as they are, and so are comparisons with a
// single text value (email = $1::text, email = 'a' || $1): the btree
// operator family has an (encrypted_text, text) member, which compares the
// text's term, computed once per transaction, without sealing it.  Arrays of
// text are still bound: a btree sorts array keys with the element type's own
// order, and text has none in this family.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/equality.hpp"
#include "colcrypt/pg/transaction_cache.hpp"
#include "colcrypt/pg/value_codec.hpp"

namespace colcrypt::pg {
namespace {

// OIDs of the objects the hook recognises and inserts, looked up once and
// again after any change to types, operators, functions or schemas (which
// is how CREATE and DROP EXTENSION show up).
struct ComparisonOids {
    bool looked_up;
    bool installed;  // colcrypt is installed in this database
    Oid encrypted_text;
    Oid encrypted_text_array;
    Oid eq, ne;            // (encrypted_text, encrypted_text)
    Oid eq_function, ne_function;
    Oid eq_text, ne_text;  // (encrypted_text, text)
    Oid bind_value, bind_value_array, bind_text_array;
};

ComparisonOids oids;
planner_hook_type previous_planner_hook = nullptr;

void forget_oids(Datum, int, uint32) {
    oids.looked_up = false;
}

Oid operator_oid(const char *name, Oid left, Oid right) {
    return OpernameGetOprid(list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup(name))), left, right);
}

Oid bind_function_oid(Oid argument_type) {
    Oid types[2] = {argument_type, INT4OID};
    return LookupFuncName(list_make2(makeString(pstrdup("colcrypt")), makeString(pstrdup("_bind"))), 2, types,
                          true);
}

const ComparisonOids &comparison_oids() {
    if (oids.looked_up)
        return oids;
    ComparisonOids found{};
    found.looked_up = true;
    Oid schema = get_namespace_oid("colcrypt", true);
    if (OidIsValid(schema))
        found.encrypted_text = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("encrypted_text"),
                                               ObjectIdGetDatum(schema));
    if (OidIsValid(found.encrypted_text)) {
        Oid enc = found.encrypted_text;
        found.encrypted_text_array = get_array_type(enc);
        found.eq = operator_oid("=", enc, enc);
        found.ne = operator_oid("<>", enc, enc);
        found.eq_text = operator_oid("=", enc, TEXTOID);
        found.ne_text = operator_oid("<>", enc, TEXTOID);
        if (OidIsValid(found.eq) && OidIsValid(found.ne)) {
            found.eq_function = get_opcode(found.eq);
            found.ne_function = get_opcode(found.ne);
        }
        found.bind_value = bind_function_oid(enc);
        found.bind_value_array = bind_function_oid(found.encrypted_text_array);
        found.bind_text_array = bind_function_oid(TEXTARRAYOID);
        // Mid-way through CREATE EXTENSION some are still missing.
        found.installed = OidIsValid(found.eq) && OidIsValid(found.ne) && OidIsValid(found.eq_text) &&
                          OidIsValid(found.ne_text) && OidIsValid(found.bind_value) &&
                          OidIsValid(found.bind_value_array) && OidIsValid(found.bind_text_array);
    }
    oids = found;
    return oids;
}

// The keyring modifier of an encrypted expression, -1 when it has none.
int32 keyring_typmod(Node *expr, const ComparisonOids &o) {
    return exprType(expr) == o.encrypted_text ? exprTypmod(expr) : -1;
}

Node *bind(Oid function, Oid result_type, Node *operand, int32 typmod) {
    Const *keyring = makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(typmod), false, true);
    return (Node *) makeFuncExpr(function, result_type, list_make2(operand, keyring), InvalidOid, InvalidOid,
                                 COERCE_EXPLICIT_CALL);
}

// Switch a (encrypted, text) operator to (encrypted, encrypted).
void use_encrypted_operator(Oid *opno, Oid *opfuncid, Oid *inputcollid, bool equal, const ComparisonOids &o) {
    *opno = equal ? o.eq : o.ne;
    *opfuncid = equal ? o.eq_function : o.ne_function;
    *inputcollid = InvalidOid;  // encrypted_text is not collatable
}

void bind_operator(OpExpr *op, const ComparisonOids &o) {
    if (list_length(op->args) != 2)
        return;
    Node *&left = reinterpret_cast<Node *&>(linitial(op->args));
    Node *&right = reinterpret_cast<Node *&>(lsecond(op->args));
    if (op->opno == o.eq || op->opno == o.ne) {
        int32 lt = keyring_typmod(left, o), rt = keyring_typmod(right, o);
        if (lt >= 0 && rt < 0)
            right = bind(o.bind_value, o.encrypted_text, right, lt);
        else if (rt >= 0 && lt < 0)
            left = bind(o.bind_value, o.encrypted_text, left, rt);
    }
    // (encrypted, text) is left as it is: the operator class has a member
    // for it (equality.cpp, colcrypt_encrypted_text_cmp_text), so an index
    // serves it without sealing the text.
}

// column = ANY(array) and column IN (...), with an array of transit values
// or of text.
void bind_array_operator(ScalarArrayOpExpr *op, const ComparisonOids &o) {
    if (list_length(op->args) != 2)
        return;
    int32 typmod = keyring_typmod((Node *) linitial(op->args), o);
    if (typmod < 0)
        return;
    Node *&array = reinterpret_cast<Node *&>(lsecond(op->args));
    if ((op->opno == o.eq || op->opno == o.ne) && exprType(array) == o.encrypted_text_array) {
        array = bind(o.bind_value_array, o.encrypted_text_array, array, typmod);
    } else if ((op->opno == o.eq_text || op->opno == o.ne_text) && exprType(array) == TEXTARRAYOID) {
        array = bind(o.bind_text_array, o.encrypted_text_array, array, typmod);
        use_encrypted_operator(&op->opno, &op->opfuncid, &op->inputcollid, op->opno == o.eq_text, o);
    }
}

bool bind_walker(Node *node, void *context);

// PostgreSQL 15 declares tree walkers without a prototype; 16 names a type.
#if PG_VERSION_NUM < 160000
// (Through void (*)(), the cast GCC accepts between function types.)
#define BIND_WALKER reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(bind_walker))
#else
#define BIND_WALKER bind_walker
#endif

bool bind_walker(Node *node, void *context) {
    if (node == nullptr)
        return false;
    const auto &o = *static_cast<const ComparisonOids *>(context);
    if (IsA(node, Query))
        return query_tree_walker((Query *) node, BIND_WALKER, context, 0);
    if (IsA(node, OpExpr))
        bind_operator((OpExpr *) node, o);
    else if (IsA(node, ScalarArrayOpExpr))
        bind_array_operator((ScalarArrayOpExpr *) node, o);
    return expression_tree_walker(node, BIND_WALKER, context);
}

// Above zero while the planner runs (see memoized_bind).
int planning_depth = 0;

PlannedStmt *colcrypt_planner(Query *parse, const char *query_string, int cursor_options,
                              ParamListInfo bound_params) {
    const ComparisonOids &o = comparison_oids();
    if (o.installed)
        (void) bind_walker((Node *) parse, const_cast<ComparisonOids *>(&o));
    PlannedStmt *result;
    planning_depth++;
    PG_TRY();
    {
        result = previous_planner_hook ? previous_planner_hook(parse, query_string, cursor_options, bound_params)
                                       : standard_planner(parse, query_string, cursor_options, bound_params);
    }
    PG_FINALLY();
    {
        planning_depth--;
    }
    PG_END_TRY();
    return result;
}

// ---------------------------------------------------------------------------
// colcrypt._bind: the functions the hook inserts.  Each remembers its last
// input and result in fn_extra, so evaluating the same operand for every
// row of a scan costs a comparison of the input bytes.  Results computed
// while planning are also kept for the transaction (transaction_cache.hpp):
// the planner's selectivity estimate and the executor evaluate the same
// operand through different FmgrInfos, and the executor reuses the
// planner's result.  (Executor results are not kept: a generic plan's
// operand changes with every execution, so copying it would be waste.)
// ---------------------------------------------------------------------------

struct BindMemo {
    int32 typmod;
    std::size_t input_size;
    char *input;  // may be plaintext (text arrays): wiped when replaced, and with the context
    Datum result;
};

// The input copy is wiped with the memo's memory context too.
void wipe_bind_memo(void *arg) {
    auto *memo = static_cast<BindMemo *>(arg);
    if (memo->input != nullptr)
        core::secure_wipe(memo->input, memo->input_size);
}

using BindCompute = Datum (*)(FunctionCallInfo fcinfo, Datum input, int32 typmod);

Datum memoized_bind(FunctionCallInfo fcinfo, BindCompute compute) {
    struct varlena *input = PG_GETARG_VARLENA_PP(0);
    int32 typmod = PG_GETARG_INT32(1);
    const char *bytes = VARDATA_ANY(input);
    std::size_t size = VARSIZE_ANY_EXHDR(input);
    auto *memo = static_cast<BindMemo *>(fcinfo->flinfo->fn_extra);
    if (memo != nullptr && memo->typmod == typmod && memo->input_size == size &&
        std::memcmp(memo->input, bytes, size) == 0)
        return memo->result;

    Oid function = fcinfo->flinfo->fn_oid;
    Datum result;
    if (struct varlena *known = cached_binding(function, typmod, bytes, size)) {
        result = PointerGetDatum(known);
    } else {
        result = compute(fcinfo, PointerGetDatum(input), typmod);
        if (planning_depth > 0)
            cache_binding(function, typmod, bytes, size, (struct varlena *) DatumGetPointer(result));
    }
    MemoryContext caller = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
    if (memo == nullptr) {
        memo = static_cast<BindMemo *>(palloc0(sizeof(BindMemo)));
        auto *callback = static_cast<MemoryContextCallback *>(palloc(sizeof(MemoryContextCallback)));
        callback->func = wipe_bind_memo;
        callback->arg = memo;
        MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, callback);
        fcinfo->flinfo->fn_extra = memo;
    } else {
        core::secure_wipe(memo->input, memo->input_size);
        pfree(memo->input);
        pfree(DatumGetPointer(memo->result));
    }
    memo->typmod = typmod;
    memo->input_size = size;
    memo->input = static_cast<char *>(palloc(size + 1));
    std::memcpy(memo->input, bytes, size);
    memo->result = datumCopy(result, false, -1);
    MemoryContextSwitchTo(caller);
    return memo->result;
}

// An array element of another keyring or none (a transit value) is
// decrypted to be re-sealed under the column's keyring, so that the btree
// can sort the array's keys in its own order; its plaintext is cached like
// bind_one_text's.
Datum bind_one_value(FunctionCallInfo, Datum input, int32 typmod) {
    return PointerGetDatum(
        bind_value(core::ValueType::text, (struct varlena *) DatumGetPointer(input), typmod, true));
}

// A single value: a transit value (an untyped parameter, a literal) stays
// as it is.  Comparisons take its term under the column's keyring from the
// transaction cache (equality.cpp), computed once; sealing it again under
// the column's keyring would cost an encryption per execution and spend the
// column's nonce budget on reads.  Values of another keyring are re-sealed.
// (Longer values than the cache takes are sealed: their terms would be
// computed again at every comparison.)
Datum bind_single_value(FunctionCallInfo fcinfo, Datum input, int32 typmod) {
    auto *value = (struct varlena *) DatumGetPointer(input);
    if (VARSIZE_ANY_EXHDR(value) <= kMaxCachedSize && is_transit_value(value))
        return input;
    return bind_one_value(fcinfo, input, typmod);
}

// The plaintext is known here: cached, so that comparisons with the bound
// value never decrypt it.
Datum bind_one_text(FunctionCallInfo, Datum input, int32 typmod) {
    auto *plaintext = (text *) DatumGetPointer(input);
    struct varlena *bound =
        seal_value(core::ValueType::text, VARDATA_ANY(plaintext), VARSIZE_ANY_EXHDR(plaintext), typmod);
    cache_plaintext(core::ValueType::text, bound, VARDATA_ANY(plaintext), VARSIZE_ANY_EXHDR(plaintext));
    return PointerGetDatum(bound);
}

// Arrays of encrypted values or of text: every element bound.
Datum bind_array(FunctionCallInfo fcinfo, Datum input, int32 typmod) {
    ArrayType *array = DatumGetArrayTypeP(input);
    Oid element_type = ARR_ELEMTYPE(array);
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(element_type, &length, &by_value, &align);
    Datum *elements;
    bool *nulls;
    int count;
    deconstruct_array(array, element_type, length, by_value, align, &elements, &nulls, &count);

    Oid result_type = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
    for (int i = 0; i < count; i++) {
        if (nulls[i])
            continue;
        elements[i] = element_type == TEXTOID ? bind_one_text(fcinfo, elements[i], typmod)
                                              : bind_one_value(fcinfo, elements[i], typmod);
    }
    get_typlenbyvalalign(result_type, &length, &by_value, &align);
    ArrayType *result = construct_md_array(elements, nulls, ARR_NDIM(array), ARR_DIMS(array), ARR_LBOUND(array),
                                           result_type, length, by_value, align);
    return PointerGetDatum(result);
}

}  // namespace

void install_comparison_binding_hook() {
    previous_planner_hook = planner_hook;
    planner_hook = colcrypt_planner;
    CacheRegisterSyscacheCallback(NAMESPACEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(TYPEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(OPEROID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(PROCOID, forget_oids, (Datum) 0);
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_bind_value);
PG_FUNCTION_INFO_V1(colcrypt_bind_array);
}

extern "C" Datum colcrypt_bind_value(PG_FUNCTION_ARGS) {
    return memoized_bind(fcinfo, bind_single_value);
}

extern "C" Datum colcrypt_bind_array(PG_FUNCTION_ARGS) {
    return memoized_bind(fcinfo, bind_array);
}
