// colcrypt._bind(operand, keyring modifier): the function the planner hook
// (planner/comparison_binding.cpp) wraps around the keyring-less side of a
// comparison with an encrypted column, so that it compares under the
// column's keyring.
//
// Each call site remembers its last input and result in fn_extra, so
// evaluating the same operand for every row of a scan costs a comparison of
// the input bytes.  A simple-protocol query runs it at two call sites with
// the same input (the planner evaluates it to estimate selectivity, then
// the executor): results computed while planning are also kept for the
// transaction (state/transaction_cache.hpp), and the executor reuses them.
// (Executor results are not kept: a generic plan's operand changes with
// every execution, so copying it would be waste.)
#pragma once

namespace colcrypt::pg {

// The planner hook brackets planning with these, so that _bind knows which
// of its results to keep for the transaction.
void bind_planning_begins();
void bind_planning_ends();

}  // namespace colcrypt::pg
