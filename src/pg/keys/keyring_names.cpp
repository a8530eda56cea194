// Keyring names and type modifiers.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/keyring_name.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"

namespace colcrypt::pg {

int32 keyring_typmod_for_name(const char *name) {
    std::size_t size = strlen(name);
    if (!core::is_valid_keyring_name(name, size))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid keyring name \"%s\"", name),
                        errdetail("Keyring names are 1 to %d characters: lower-case letters, digits and underscores, "
                                  "starting with a letter.",
                                  (int) core::kMaxKeyringNameSize)));
    return cpp_guard([&] { return core::keyring_type_modifier(name, size); });
}

char *keyring_name_for_typmod(int32 typmod) {
    return catalog::keyring_name(catalog::KeyringBy::type_modifier, typmod);
}

char *keyring_name_for_id(std::uint32_t keyring_id) {
    if (keyring_id == core::kTransitKeyringId)
        return pstrdup("(transit)");
    return catalog::keyring_name(catalog::KeyringBy::id, (int32) keyring_id);
}

}  // namespace colcrypt::pg
