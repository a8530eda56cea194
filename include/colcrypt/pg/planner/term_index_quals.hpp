// The planner hook's second step: comparisons `col = x` served by an index
// over colcrypt.term(col) (see term_index_quals.cpp).
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
}

namespace colcrypt::pg {

// Rewrites, in every query of the tree, the top-level conjuncts `col = x`
// and `col = ANY(xs)` whose column has a valid btree index over
// colcrypt.term(col), after comparison binding has bound x.
void add_term_index_quals(Query *parse);

// Looked-up OIDs are forgotten after changes to functions, types or schemas.
void register_term_index_quals_invalidation();

}  // namespace colcrypt::pg
