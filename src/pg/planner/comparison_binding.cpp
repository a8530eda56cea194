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
//     the column's keyring from the transaction cache (ops/equality.cpp), so
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
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/compat/tree_walker.hpp"
#include "colcrypt/pg/ops/bind.hpp"
#include "colcrypt/pg/planner/comparison_binding.hpp"
#include "colcrypt/pg/planner/term_index_quals.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

// = and <> of an encrypted type with one plaintext type, and that type's
// array type; commuted_eq is (plaintext = encrypted), as in `'x' = col`.
struct PlaintextComparison {
    Oid type, array_type;
    Oid eq, ne;
    Oid commuted_eq;
};

// OIDs of the objects the hook recognises and inserts for one encrypted
// type.
struct TypeComparisons {
    bool installed;  // everything below exists in this database (the first plaintext entry at least)
    Oid type, array_type;
    Oid eq, ne;            // (encrypted, encrypted)
    Oid eq_function, ne_function;
    // [0]: its plaintext type; then the others it compares with.  type is
    // InvalidOid past the last one found (a database at 0.1.0's SQL has
    // only text's).
    PlaintextComparison plaintexts[4];
    Oid bind_value, bind_value_array, bind_plaintext_array;
};

// Looked up once, and again after any change to types, operators,
// functions or schemas (which is how CREATE and DROP EXTENSION show up).
struct ComparisonOids {
    bool looked_up;
    bool any_installed;
    TypeComparisons types[kEncryptedTypeCount];
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

PlaintextComparison lookup_plaintext(Oid encrypted, Oid plaintext) {
    PlaintextComparison p{};
    p.eq = operator_oid("=", encrypted, plaintext);
    p.ne = operator_oid("<>", encrypted, plaintext);
    p.commuted_eq = operator_oid("=", plaintext, encrypted);
    if (OidIsValid(p.eq) && OidIsValid(p.ne)) {
        p.type = plaintext;
        p.array_type = get_array_type(plaintext);
    }
    return p;
}

TypeComparisons lookup_type(const EncryptedType &descriptor) {
    TypeComparisons t{};
    t.type = encrypted_type_oid(descriptor);
    if (!OidIsValid(t.type))
        return t;
    t.array_type = get_array_type(t.type);
    t.eq = operator_oid("=", t.type, t.type);
    t.ne = operator_oid("<>", t.type, t.type);
    if (OidIsValid(t.eq) && OidIsValid(t.ne)) {
        t.eq_function = get_opcode(t.eq);
        t.ne_function = get_opcode(t.ne);
    }
    int found = 0;
    t.plaintexts[found] = lookup_plaintext(t.type, descriptor.plaintext_type);
    if (OidIsValid(t.plaintexts[found].type))
        found++;
    for (Oid other : descriptor.also_compared_with) {
        if (!OidIsValid(other))
            break;
        PlaintextComparison p = lookup_plaintext(t.type, other);
        if (OidIsValid(p.type))
            t.plaintexts[found++] = p;
    }
    t.bind_value = bind_function_oid(t.type);
    t.bind_value_array = bind_function_oid(t.array_type);
    t.bind_plaintext_array = bind_function_oid(get_array_type(descriptor.plaintext_type));
    // Mid-way through CREATE EXTENSION some are still missing.
    t.installed = OidIsValid(t.eq) && OidIsValid(t.ne) && found > 0 &&
                  t.plaintexts[0].type == descriptor.plaintext_type && OidIsValid(t.bind_value) &&
                  OidIsValid(t.bind_value_array) && OidIsValid(t.bind_plaintext_array);
    return t;
}

// The plaintext comparison opno is one of, or nullptr.
const PlaintextComparison *plaintext_comparison(Oid opno, const TypeComparisons &t) {
    for (const PlaintextComparison &p : t.plaintexts) {
        if (!OidIsValid(p.type))
            break;
        if (opno == p.eq || opno == p.ne)
            return &p;
    }
    return nullptr;
}

const ComparisonOids &comparison_oids() {
    if (oids.looked_up)
        return oids;
    ComparisonOids found{};
    for (int i = 0; i < kEncryptedTypeCount; i++) {
        found.types[i] = lookup_type(kEncryptedTypes[i]);
        found.any_installed = found.any_installed || found.types[i].installed;
    }
    found.looked_up = true;
    oids = found;
    return oids;
}

// Whether opno is (plaintext = encrypted) of the type.
bool is_commuted_plaintext_equality(Oid opno, const TypeComparisons &t) {
    for (const PlaintextComparison &p : t.plaintexts) {
        if (!OidIsValid(p.type))
            break;
        if (OidIsValid(p.commuted_eq) && opno == p.commuted_eq)
            return true;
    }
    return false;
}

// The comparisons of the encrypted type an operator or array belongs to.
const TypeComparisons *comparisons_of_operator(Oid opno, const ComparisonOids &o) {
    for (int i = 0; i < kEncryptedTypeCount; i++) {
        const TypeComparisons &t = o.types[i];
        if (t.installed && (opno == t.eq || opno == t.ne || plaintext_comparison(opno, t) != nullptr ||
                            is_commuted_plaintext_equality(opno, t)))
            return &t;
    }
    return nullptr;
}

// The keyring modifier of an encrypted expression, -1 when it has none.
int32 keyring_typmod(Node *expr, const TypeComparisons &t) {
    return exprType(expr) == t.type ? exprTypmod(expr) : -1;
}

Node *bind(Oid function, Oid result_type, Node *operand, int32 typmod) {
    Const *keyring = makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(typmod), false, true);
    return (Node *) makeFuncExpr(function, result_type, list_make2(operand, keyring), InvalidOid, InvalidOid,
                                 COERCE_EXPLICIT_CALL);
}

// Switch an (encrypted, plaintext) operator to (encrypted, encrypted).
void use_encrypted_operator(Oid *opno, Oid *opfuncid, Oid *inputcollid, bool equal, const TypeComparisons &t) {
    *opno = equal ? t.eq : t.ne;
    *opfuncid = equal ? t.eq_function : t.ne_function;
    *inputcollid = InvalidOid;  // encrypted types are not collatable
}

void bind_operator(OpExpr *op, const ComparisonOids &o) {
    if (list_length(op->args) != 2)
        return;
    const TypeComparisons *t = comparisons_of_operator(op->opno, o);
    if (t == nullptr)
        return;
    Node *&left = reinterpret_cast<Node *&>(linitial(op->args));
    Node *&right = reinterpret_cast<Node *&>(lsecond(op->args));
    if (op->opno == t->eq || op->opno == t->ne) {
        int32 lt = keyring_typmod(left, *t), rt = keyring_typmod(right, *t);
        if (lt >= 0 && rt < 0)
            right = bind(t->bind_value, t->type, right, lt);
        else if (rt >= 0 && lt < 0)
            left = bind(t->bind_value, t->type, left, rt);
    }
    // (encrypted, plaintext) is left as it is: the operator class has a
    // member for it (ops/equality.cpp, order_with_plaintext), so an index
    // serves it without sealing the plaintext.
}

// column = ANY(array) and column IN (...), with an array of transit values
// or of plaintexts.  An array of another string type (varchar, bpchar)
// becomes an array of the plaintext type first, as its cast would make it.
void bind_array_operator(ScalarArrayOpExpr *op, const ComparisonOids &o) {
    if (list_length(op->args) != 2)
        return;
    const TypeComparisons *t = comparisons_of_operator(op->opno, o);
    if (t == nullptr)
        return;
    int32 typmod = keyring_typmod((Node *) linitial(op->args), *t);
    if (typmod < 0)
        return;
    Node *&array = reinterpret_cast<Node *&>(lsecond(op->args));
    Oid array_type = exprType(array);
    if ((op->opno == t->eq || op->opno == t->ne) && array_type == t->array_type) {
        array = bind(t->bind_value_array, t->array_type, array, typmod);
        return;
    }
    const PlaintextComparison *p = plaintext_comparison(op->opno, *t);
    if (p == nullptr || array_type != p->array_type)
        return;
    bool equal = op->opno == p->eq;
    const PlaintextComparison &primary = t->plaintexts[0];
    if (p->type != primary.type) {
        Node *converted = coerce_to_target_type(nullptr, array, array_type, primary.array_type, -1,
                                                COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
        if (converted == nullptr)
            return;  // no cast: leave the comparison as it is
        array = converted;
    }
    array = bind(t->bind_plaintext_array, t->array_type, array, typmod);
    use_encrypted_operator(&op->opno, &op->opfuncid, &op->inputcollid, equal, *t);
}

struct BindContext {
    const ComparisonOids &oids;
    bool saw_equality;  // an = of an encrypted type: the term-index step has work
};

bool bind_walker(Node *node, void *context) {
    if (node == nullptr)
        return false;
    auto &c = *static_cast<BindContext *>(context);
    const ComparisonOids &o = c.oids;
    if (IsA(node, Query))
        return query_tree_walker((Query *) node, COLCRYPT_TREE_WALKER(bind_walker), context, 0);
    if (IsA(node, OpExpr)) {
        bind_operator((OpExpr *) node, o);
        c.saw_equality = c.saw_equality || comparisons_of_operator(((OpExpr *) node)->opno, o) != nullptr;
    } else if (IsA(node, ScalarArrayOpExpr)) {
        bind_array_operator((ScalarArrayOpExpr *) node, o);
        c.saw_equality =
            c.saw_equality || comparisons_of_operator(((ScalarArrayOpExpr *) node)->opno, o) != nullptr;
    }
    return expression_tree_walker(node, COLCRYPT_TREE_WALKER(bind_walker), context);
}

PlannedStmt *colcrypt_planner(Query *parse, const char *query_string, int cursor_options,
                              ParamListInfo bound_params) {
    const ComparisonOids &o = comparison_oids();
    if (o.any_installed) {
        BindContext context{o, false};
        (void) bind_walker((Node *) parse, &context);
        if (context.saw_equality)
            add_term_index_quals(parse);
    }
    PlannedStmt *volatile result = nullptr;
    bind_planning_begins();
    PG_TRY();
    {
        result = previous_planner_hook ? previous_planner_hook(parse, query_string, cursor_options, bound_params)
                                       : standard_planner(parse, query_string, cursor_options, bound_params);
    }
    PG_FINALLY();
    {
        bind_planning_ends();
    }
    PG_END_TRY();
    return result;
}

}  // namespace

bool is_encrypted_equality(Oid opno) {
    const ComparisonOids &o = comparison_oids();
    const TypeComparisons *t = comparisons_of_operator(opno, o);
    if (t == nullptr)
        return false;
    if (opno == t->eq || is_commuted_plaintext_equality(opno, *t))
        return true;
    const PlaintextComparison *p = plaintext_comparison(opno, *t);
    return p != nullptr && opno == p->eq;
}

bool is_bind_function(Oid funcid) {
    const ComparisonOids &o = comparison_oids();
    for (const TypeComparisons &t : o.types)
        if (t.installed && (funcid == t.bind_value || funcid == t.bind_value_array || funcid == t.bind_plaintext_array))
            return true;
    return false;
}

void install_comparison_binding_hook() {
    previous_planner_hook = planner_hook;
    planner_hook = colcrypt_planner;
    CacheRegisterSyscacheCallback(NAMESPACEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(TYPEOID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(OPEROID, forget_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(PROCOID, forget_oids, (Datum) 0);
    register_term_index_quals_invalidation();
}

}  // namespace colcrypt::pg
