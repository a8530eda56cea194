// What ops/term_index.cpp offers the planner hook beside its SQL-callable
// functions (docs/design/lookup-index.md).
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"
#include "colcrypt/pg/ops/equality.hpp"

extern "C" {
#include "utils/array.h"
}

namespace colcrypt::pg {

// What colcrypt._search_term(operand, typmod, which) returns, for an
// operand of SQL type `type` (not NULL): so that a plan can carry the term
// of a constant instead of computing it at every execution.  ERROR as
// there.
std::int64_t search_term_for(Oid type, Datum operand, int32 typmod, SearchKey which);

// What colcrypt._search_terms(operands, typmod) returns: both terms of
// every non-null element.
ArrayType *search_terms_for(ArrayType *operands, int32 typmod);

}  // namespace colcrypt::pg
