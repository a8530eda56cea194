// The planner hook that binds the keyring-less side of a comparison with an
// encrypted column to that column's keyring (see comparison_binding.cpp).
#pragma once

namespace colcrypt::pg {

void install_comparison_binding_hook();

}  // namespace colcrypt::pg
