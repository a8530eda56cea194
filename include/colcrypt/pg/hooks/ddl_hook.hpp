// Column definitions without a keyring.
//
// A column declared colcrypt.encrypted_text (no modifier) gets the keyring
// named by colcrypt.default_key at the moment it is created, written into the
// column's type as if the user had typed it; without a default key the DDL
// fails.  So no table column ever has modifier -1, and the transit values of
// modifier -1 (see types/value_codec.hpp) are always re-sealed before
// storage.
#pragma once

namespace colcrypt::pg {

void install_ddl_hook();

}  // namespace colcrypt::pg
