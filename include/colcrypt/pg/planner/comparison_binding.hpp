// The planner hook that binds the keyring-less side of a comparison with an
// encrypted column to that column's keyring (see comparison_binding.cpp).
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

void install_comparison_binding_hook();

// Whether opno is the = of an encrypted type with itself, or with a
// plaintext type it compares with, either way round (an operand bound or
// not).
bool is_encrypted_equality(Oid opno);

// Whether funcid is one of the colcrypt._bind(operand, modifier) functions
// this hook wraps around an operand (of a value, or of an array).
bool is_bind_function(Oid funcid);

}  // namespace colcrypt::pg
