// colcrypt._reencrypt_value(value, typmod): a stored value re-sealed under
// the active data-key version of its keyring, for the re-encryption batches
// (docs/design/reencryption.md).  The plaintext is opened without the
// decrypt privilege, sealed again at once under the same keyring and wiped:
// it never leaves this function, and the caller learns nothing it could not
// read from the envelope it passed in.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "utils/lsyscache.h"
}

#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_reencrypt_value);
}

using namespace colcrypt::pg;

extern "C" Datum colcrypt_reencrypt_value(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    const EncryptedType *type = encrypted_type_of(getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0)));
    if (type == nullptr)
        elog(ERROR, "colcrypt._reencrypt_value called on a value of another type");
    colcrypt::core::Envelope envelope = parse_value(value);
    // Transit values and values of another keyring than the column's are
    // left as they are: re-sealing them would move them between keyrings.
    if (typmod < 0 || envelope.keyring_id == colcrypt::core::kTransitKeyringId ||
        colcrypt::core::is_search_value(envelope))
        PG_RETURN_POINTER(value);
    SealingKeyring keyring = sealing_key_for_typmod(typmod);
    if (envelope.keyring_id != keyring.key.keyring_id || envelope.key_version == keyring.key.key_version)
        PG_RETURN_POINTER(value);
    std::size_t size;
    char *plaintext = decrypt_for_comparison(type->value_type, envelope, &size);
    struct varlena *sealed = seal_value(type->value_type, plaintext, size, typmod);
    colcrypt::core::secure_wipe(plaintext, size);
    pfree(plaintext);
    PG_RETURN_POINTER(sealed);
}
