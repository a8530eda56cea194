// Planner hook, second step: lookups through an index over terms
// (docs/design/lookup-index.md).
//
// When col has a valid, non-partial btree index whose first key is
// colcrypt.term(col), a top-level conjunct of a WHERE or JOIN ... ON qual
//
//   col = x              becomes   colcrypt._rechecked(col) = x
//                                  AND colcrypt.term(col) =
//                                      colcrypt._search_term(x, m, 0)
//                        or, during a blind-index key rotation,
//                                  AND colcrypt.term(col) = ANY(ARRAY[
//                                      colcrypt._search_term(x, m, 0),
//                                      colcrypt._search_term(x, m, 1)])
//   col = ANY(xs)        becomes   colcrypt._rechecked(col) = ANY(xs)
//                                  AND colcrypt.term(col) =
//                                      ANY(colcrypt._search_terms(xs, m))
//
// (m: the column's keyring modifier; x as comparison binding left it).
// The term qual is implied by the comparison: a value equal to x carries
// x's term under the index key its data version is bound to, the order
// key (0) or, during a blind-index key rotation, the new one (1), and
// every key a value may be under is searched for.  So the result is the
// comparison's, NULLs included (a NULL x or col makes both sides NULL).
// The comparison stays and is rechecked on every row the index returns,
// so a colliding term never reaches a result; _rechecked keeps the
// planner from choosing an index over the envelopes for it instead.
//
// A constant x (a literal, or an expression of literals) gets its terms
// computed here, into the plan.  The form, and such terms, are decided
// when the plan is made: every change to the key tables (rotate_index_key,
// the cut-over among them) invalidates every backend's cached plans
// (keys/key_cache.cpp, invalidate_key_caches), so no plan made under one
// set of keys runs under another.
//
// Only comparisons whose other side is the same for every row are
// rewritten: no Var of the query's own level, nothing volatile, no
// sub-select (x is evaluated twice).  Tables with inheritance children are
// left alone (a child may lack the index); a partitioned table's
// partitions all have a partitioned index's.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "parser/parse_func.h"
#include "rewrite/rewriteManip.h"
#include "utils/inval.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/compat/array_elements.hpp"
#include "colcrypt/pg/compat/tree_walker.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/ops/term_index.hpp"
#include "colcrypt/pg/planner/comparison_binding.hpp"
#include "colcrypt/pg/planner/term_index_quals.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

namespace colcrypt::pg {
namespace {

struct TermIndexOids {
    bool looked_up;
    bool installed;  // every function below exists in this database
    Oid encrypted_type[kEncryptedTypeCount];
    Oid term[kEncryptedTypeCount];  // colcrypt.term(encrypted_type[i])
    Oid search_term, search_terms, rechecked;
    Oid int8_eq, int8_eq_function;
};

TermIndexOids oids;

void forget_oids(Datum, int, uint32) {
    oids.looked_up = false;
}

Oid colcrypt_function(const char *name, int count, const Oid *types) {
    return LookupFuncName(list_make2(makeString(pstrdup("colcrypt")), makeString(pstrdup(name))), count, types,
                          true);
}

const TermIndexOids &term_index_oids() {
    if (oids.looked_up)
        return oids;
    TermIndexOids found{};
    bool all = true;
    for (int i = 0; i < kEncryptedTypeCount; i++) {
        found.encrypted_type[i] = encrypted_type_oid(kEncryptedTypes[i]);
        found.term[i] = OidIsValid(found.encrypted_type[i]) ? colcrypt_function("term", 1, &found.encrypted_type[i])
                                                            : InvalidOid;
        all = all && OidIsValid(found.term[i]);
    }
    Oid search_term_args[3] = {ANYELEMENTOID, INT4OID, INT4OID};
    Oid search_terms_args[2] = {ANYARRAYOID, INT4OID};
    Oid rechecked_args[1] = {ANYELEMENTOID};
    found.search_term = colcrypt_function("_search_term", 3, search_term_args);
    found.search_terms = colcrypt_function("_search_terms", 2, search_terms_args);
    found.rechecked = colcrypt_function("_rechecked", 1, rechecked_args);
    found.int8_eq = OpernameGetOprid(list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup("="))),
                                     INT8OID, INT8OID);
    found.int8_eq_function = get_opcode(found.int8_eq);
    // A database at an older colcrypt's SQL has none of them.
    found.installed = all && OidIsValid(found.search_term) && OidIsValid(found.search_terms) &&
                      OidIsValid(found.rechecked);
    found.looked_up = true;
    oids = found;
    return oids;
}

// colcrypt.term for an encrypted type, InvalidOid for any other type.
Oid term_function(const TermIndexOids &o, Oid type) {
    for (int i = 0; i < kEncryptedTypeCount; i++)
        if (o.encrypted_type[i] == type)
            return o.term[i];
    return InvalidOid;
}

// The columns of one relation that an index over their terms serves:
// the first key of a valid, non-partial btree index is term_fn(column).
// Found once per relation and kept until a relcache invalidation of it
// (CREATE and DROP INDEX, an index becoming valid), so that planning a
// lookup on a table without such an index costs a hash lookup.
constexpr int kMaxTermIndexedColumns = 8;
struct TermIndexedColumns {
    Oid relid;  // hash key
    int count;
    AttrNumber attno[kMaxTermIndexedColumns];
    Oid term_fn[kMaxTermIndexedColumns];
};

HTAB *term_indexed_columns = nullptr;

void forget_relation(Datum, Oid relid) {
    if (term_indexed_columns == nullptr)
        return;
    if (OidIsValid(relid)) {
        (void) hash_search(term_indexed_columns, &relid, HASH_REMOVE, nullptr);
        return;
    }
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, term_indexed_columns);
    while (auto *entry = static_cast<TermIndexedColumns *>(hash_seq_search(&scan)))
        (void) hash_search(term_indexed_columns, &entry->relid, HASH_REMOVE, nullptr);
}

// The first key of an index, when it is some function of one column.
bool function_of_column(Relation index_relation, Oid *function, AttrNumber *attno) {
    List *expressions = RelationGetIndexExpressions(index_relation);
    auto *first = (Node *) linitial(expressions);
    if (!IsA(first, FuncExpr) || list_length(((FuncExpr *) first)->args) != 1)
        return false;
    auto *argument = (Node *) linitial(((FuncExpr *) first)->args);
    if (!IsA(argument, Var))
        return false;
    *function = ((FuncExpr *) first)->funcid;
    *attno = ((Var *) argument)->varattno;
    return true;
}

// The parser holds a lock on the table; each index looked into is locked
// as the planner will lock it.
void find_term_indexed_columns(const TermIndexOids &o, Oid relid, LOCKMODE lockmode, TermIndexedColumns *out) {
    Relation table = table_open(relid, NoLock);
    List *indexes = RelationGetIndexList(table);
    table_close(table, NoLock);
    ListCell *lc;
    foreach (lc, indexes) {
        Oid index_oid = lfirst_oid(lc);
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index_oid));
        if (!HeapTupleIsValid(tuple))
            continue;
        auto *index = (Form_pg_index) GETSTRUCT(tuple);
        bool candidate = index->indisvalid && index->indisready && index->indislive && index->indnatts > 0 &&
                         index->indkey.values[0] == 0 && heap_attisnull(tuple, Anum_pg_index_indpred, nullptr) &&
                         !heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr);
        ReleaseSysCache(tuple);
        if (!candidate || out->count == kMaxTermIndexedColumns)
            continue;
        Relation index_relation = index_open(index_oid, lockmode);
        Oid function;
        AttrNumber attno;
        if (index_relation->rd_rel->relam == BTREE_AM_OID && function_of_column(index_relation, &function, &attno))
            for (int i = 0; i < kEncryptedTypeCount; i++)
                if (function == o.term[i]) {
                    out->attno[out->count] = attno;
                    out->term_fn[out->count] = function;
                    out->count++;
                    break;
                }
        index_close(index_relation, NoLock);
    }
    list_free(indexes);
}

// Whether an index over term_fn(column attno) serves the relation.
bool has_term_index(const TermIndexOids &o, Oid relid, AttrNumber attno, Oid term_fn, LOCKMODE lockmode) {
    if (term_indexed_columns == nullptr) {
        HASHCTL control{};
        control.keysize = sizeof(Oid);
        control.entrysize = sizeof(TermIndexedColumns);
        control.hcxt = CacheMemoryContext;
        term_indexed_columns =
            hash_create("colcrypt term-indexed columns", 64, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    auto *entry = static_cast<TermIndexedColumns *>(hash_search(term_indexed_columns, &relid, HASH_FIND, nullptr));
    if (entry == nullptr) {
        // Looked up before the entry is made: an error here leaves none.
        TermIndexedColumns found{};
        found.relid = relid;
        find_term_indexed_columns(o, relid, lockmode, &found);
        entry = static_cast<TermIndexedColumns *>(hash_search(term_indexed_columns, &relid, HASH_ENTER, nullptr));
        *entry = found;
    }
    for (int i = 0; i < entry->count; i++)
        if (entry->attno[i] == attno && entry->term_fn[i] == term_fn)
            return true;
    return false;
}

struct Rewriter {
    const TermIndexOids &oids;
    Query *query;
};

// The column a comparison's side is, when it is a plain column of a table
// of this query with an index over its terms, with a keyring that keeps
// terms; else nullptr.  *rotating: whether the keyring is in a blind-index
// key rotation, so that values carry terms under two index keys.
Var *term_indexed_column(const Rewriter &r, Node *side, Oid *term_fn, bool *rotating) {
    if (!IsA(side, Var))
        return nullptr;
    auto *var = (Var *) side;
    if (var->varlevelsup != 0 || var->varattno <= 0 || var->vartypmod < 0 || var->varno < 1 ||
        var->varno > list_length(r.query->rtable))
        return nullptr;
    *term_fn = term_function(r.oids, var->vartype);
    if (!OidIsValid(*term_fn))
        return nullptr;
    RangeTblEntry *rte = rt_fetch(var->varno, r.query->rtable);
    if (rte->rtekind != RTE_RELATION)
        return nullptr;
    if (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW &&
        rte->relkind != RELKIND_PARTITIONED_TABLE)
        return nullptr;
    if (rte->inh && rte->relkind == RELKIND_RELATION && has_subclass(rte->relid))
        return nullptr;
    if (!has_term_index(r.oids, rte->relid, var->varattno, *term_fn, rte->rellockmode))
        return nullptr;
    // A keyring that keeps no terms has none to look up (its values' terms
    // are all NULL); an unknown one is left to the comparison's own error.
    IndexKey key;
    if (!index_key_for_typmod(var->vartypmod, &key) || !key.policy.stores_terms())
        return nullptr;
    // New values carry terms of another key than the order key from
    // rotate_index_key to the cut-over (upgrade_index_order).
    *rotating = key.sealing_version != key.order_version;
    return var;
}

// Whether an operand is the same for every row of this query, cheap to
// evaluate twice and safe to: no Var of this level, nothing volatile, no
// sub-select.
bool row_independent(Node *operand) {
    return !contain_vars_of_level(operand, 0) && !contain_volatile_functions(operand) &&
           !checkExprHasSubLink(operand);
}

Node *int4_const(int32 value) {
    return (Node *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(value), false, true);
}

Node *call(Oid function, Oid result_type, List *args) {
    return (Node *) makeFuncExpr(function, result_type, args, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

// colcrypt.term(col)
Node *term_of(Oid term_fn, Var *column) {
    return call(term_fn, INT8OID, list_make1((Var *) copyObjectImpl(column)));
}

// colcrypt.term(col) = ANY(terms)
Node *term_qual(const Rewriter &r, Oid term_fn, Var *column, Node *terms) {
    ScalarArrayOpExpr *qual = makeNode(ScalarArrayOpExpr);
    qual->opno = r.oids.int8_eq;
    qual->opfuncid = r.oids.int8_eq_function;
    qual->useOr = true;
    qual->inputcollid = InvalidOid;
    qual->args = list_make2(term_of(term_fn, column), terms);
    qual->location = -1;
    return (Node *) qual;
}

Node *rechecked(const Rewriter &r, Var *column) {
    return call(r.oids.rechecked, column->vartype, list_make1(column));
}

// colcrypt._search_term(operand, m, key)
Node *search_term_call(const Rewriter &r, Var *column, Node *operand, int key) {
    return call(r.oids.search_term, INT8OID,
                list_make3((Node *) copyObjectImpl(operand), int4_const(column->vartypmod), int4_const(key)));
}

// ARRAY[_search_term(operand, m, 0), _search_term(operand, m, 1)]
Node *search_term_array(const Rewriter &r, Var *column, Node *operand) {
    ArrayExpr *array = makeNode(ArrayExpr);
    array->array_typeid = INT8ARRAYOID;
    array->element_typeid = INT8OID;
    array->elements = list_make2(search_term_call(r, column, operand, 0), search_term_call(r, column, operand, 1));
    array->multidims = false;
    array->location = -1;
    return (Node *) array;
}

// The operand with its constant parts folded: a literal expression
// becomes one Const (stable and volatile parts stay as they are).
Node *fold_constant(Node *operand) {
    return eval_const_expressions(nullptr, operand);
}

// Whether a constant is plaintext, or encrypted values of no keyring
// (transit values: literals).  A value of some keyring is left to _bind at
// execution, which re-seals one of another keyring under the column's
// (with the decrypt grant) or reports why it cannot.
bool only_plaintexts_or_transit_values(const Const *value) {
    Oid element = get_element_type(value->consttype);
    if (!is_encrypted_type(OidIsValid(element) ? element : value->consttype))
        return true;
    if (!OidIsValid(element))
        return is_transit_value((struct varlena *) PG_DETOAST_DATUM_PACKED(value->constvalue));
    ArrayElements elements = array_elements(DatumGetArrayTypeP(value->constvalue));
    for (int i = 0; i < elements.count; i++)
        if (!elements.nulls[i] && !is_transit_value((struct varlena *) PG_DETOAST_DATUM_PACKED(elements.values[i])))
            return false;
    return true;
}

// The constant search terms can be made of now: a non-null Const, or the
// Const inside _bind(Const, m) (transit values or plaintexts, bound at
// execution).
const Const *search_constant(Node *operand) {
    if (IsA(operand, FuncExpr) && is_bind_function(((FuncExpr *) operand)->funcid))
        operand = (Node *) linitial(((FuncExpr *) operand)->args);
    if (!IsA(operand, Const) || ((Const *) operand)->constisnull)
        return nullptr;
    auto *value = (const Const *) operand;
    return only_plaintexts_or_transit_values(value) ? value : nullptr;
}

// term(col) = <the constant's term>, or = ANY('{<both terms>}') during a
// rotation: no search-term call at execution and an estimate from the
// index's statistics.  The plan holds terms of the keys of the moment:
// every change to the key tables invalidates every cached plan
// (keys/key_cache.cpp, invalidate_key_caches).
Node *constant_term_qual(const Rewriter &r, Oid term_fn, Var *column, const Const *value, bool rotating) {
    std::int64_t order = search_term_for(value->consttype, value->constvalue, column->vartypmod, SearchKey::order);
    if (!rotating) {
        Node *term = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64), Int64GetDatum(order), false,
                                        FLOAT8PASSBYVAL);
        auto *qual = (OpExpr *) make_opclause(r.oids.int8_eq, BOOLOID, false, (Expr *) term_of(term_fn, column),
                                              (Expr *) term, InvalidOid, InvalidOid);
        qual->opfuncid = r.oids.int8_eq_function;
        return (Node *) qual;
    }
    Datum terms[2] = {Int64GetDatum(order), Int64GetDatum(search_term_for(value->consttype, value->constvalue,
                                                                           column->vartypmod, SearchKey::sealing))};
    ArrayType *array = construct_array(terms, 2, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    return term_qual(r, term_fn, column,
                     (Node *) makeConst(INT8ARRAYOID, -1, InvalidOid, -1, PointerGetDatum(array), false, false));
}

// col = x (either way round): the rewritten conjunct, or nullptr.
Node *rewrite_comparison(const Rewriter &r, OpExpr *op) {
    if (list_length(op->args) != 2 || !is_encrypted_equality(op->opno))
        return nullptr;
    Oid term_fn = InvalidOid;
    bool rotating = false;
    int column_side = -1;
    Var *column = nullptr;
    for (int side = 0; side < 2 && column == nullptr; side++) {
        column = term_indexed_column(r, (Node *) list_nth(op->args, side), &term_fn, &rotating);
        if (column != nullptr && !row_independent((Node *) list_nth(op->args, 1 - side)))
            column = nullptr;
        column_side = side;
    }
    if (column == nullptr)
        return nullptr;
    // A constant operand is folded once here, for both places it goes.
    Node *operand = fold_constant((Node *) list_nth(op->args, 1 - column_side));
    list_nth_cell(op->args, 1 - column_side)->ptr_value = operand;
    Node *qual;
    if (const Const *value = search_constant(operand)) {
        qual = constant_term_qual(r, term_fn, column, value, rotating);
    } else if (rotating) {
        qual = term_qual(r, term_fn, column, search_term_array(r, column, operand));
    } else {
        qual = (Node *) make_opclause(r.oids.int8_eq, BOOLOID, false, (Expr *) term_of(term_fn, column),
                                      (Expr *) search_term_call(r, column, operand, 0), InvalidOid, InvalidOid);
        ((OpExpr *) qual)->opfuncid = r.oids.int8_eq_function;
    }
    list_nth_cell(op->args, column_side)->ptr_value = rechecked(r, column);
    return (Node *) makeBoolExpr(AND_EXPR, list_make2(op, qual), -1);
}

// col = ANY(xs): the rewritten conjunct, or nullptr.
Node *rewrite_array_comparison(const Rewriter &r, ScalarArrayOpExpr *op) {
    if (!op->useOr || list_length(op->args) != 2 || !is_encrypted_equality(op->opno))
        return nullptr;
    Oid term_fn = InvalidOid;
    bool rotating;
    Var *column = term_indexed_column(r, (Node *) linitial(op->args), &term_fn, &rotating);
    if (column == nullptr || !row_independent((Node *) lsecond(op->args)))
        return nullptr;
    Node *array = fold_constant((Node *) lsecond(op->args));
    lsecond(op->args) = array;
    Node *terms;
    if (const Const *value = search_constant(array))
        terms = (Node *) makeConst(INT8ARRAYOID, -1, InvalidOid, -1,
                                   PointerGetDatum(search_terms_for(DatumGetArrayTypeP(value->constvalue),
                                                                    column->vartypmod)),
                                   false, false);
    else
        terms = call(r.oids.search_terms, INT8ARRAYOID,
                     list_make2((Node *) copyObjectImpl(array), int4_const(column->vartypmod)));
    Node *qual = term_qual(r, term_fn, column, terms);
    linitial(op->args) = rechecked(r, column);
    return (Node *) makeBoolExpr(AND_EXPR, list_make2(op, qual), -1);
}

// A qual with its top-level conjuncts rewritten where they can be.
Node *rewrite_qual(const Rewriter &r, Node *qual) {
    if (qual == nullptr)
        return nullptr;
    if (IsA(qual, List)) {
        ListCell *lc;
        foreach (lc, (List *) qual)
            lfirst(lc) = rewrite_qual(r, (Node *) lfirst(lc));
        return qual;
    }
    if (is_andclause(qual)) {
        ListCell *lc;
        foreach (lc, ((BoolExpr *) qual)->args)
            lfirst(lc) = rewrite_qual(r, (Node *) lfirst(lc));
        return qual;
    }
    Node *rewritten = nullptr;
    if (IsA(qual, OpExpr))
        rewritten = rewrite_comparison(r, (OpExpr *) qual);
    else if (IsA(qual, ScalarArrayOpExpr))
        rewritten = rewrite_array_comparison(r, (ScalarArrayOpExpr *) qual);
    return rewritten != nullptr ? rewritten : qual;
}

void rewrite_join_tree(const Rewriter &r, Node *node) {
    if (node == nullptr)
        return;
    if (IsA(node, FromExpr)) {
        auto *from = (FromExpr *) node;
        ListCell *lc;
        foreach (lc, from->fromlist)
            rewrite_join_tree(r, (Node *) lfirst(lc));
        from->quals = rewrite_qual(r, from->quals);
    } else if (IsA(node, JoinExpr)) {
        auto *join = (JoinExpr *) node;
        rewrite_join_tree(r, join->larg);
        rewrite_join_tree(r, join->rarg);
        join->quals = rewrite_qual(r, join->quals);
    }
}

bool rewrite_walker(Node *node, void *context) {
    if (node == nullptr)
        return false;
    const auto &o = *static_cast<const TermIndexOids *>(context);
    if (IsA(node, Query)) {
        auto *query = (Query *) node;
        Rewriter r{o, query};
        rewrite_join_tree(r, (Node *) query->jointree);
        return query_tree_walker(query, COLCRYPT_TREE_WALKER(rewrite_walker), context, 0);
    }
    return expression_tree_walker(node, COLCRYPT_TREE_WALKER(rewrite_walker), context);
}

}  // namespace

void add_term_index_quals(Query *parse) {
    const TermIndexOids &o = term_index_oids();
    if (o.installed)
        (void) rewrite_walker((Node *) parse, const_cast<TermIndexOids *>(&o));
}

void register_term_index_quals_invalidation() {
    CacheRegisterRelcacheCallback(forget_relation, (Datum) 0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(TYPEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(PROCOID, forget_oids, (Datum) 0);
}

}  // namespace colcrypt::pg
