// The type modifier of every encrypted type: the keyring's name, stored as
// the modifier derived from it (keys/keyring_names.hpp).
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/restore_session.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_keyring_typmod_in);
PG_FUNCTION_INFO_V1(colcrypt_keyring_typmod_out);
}

using namespace colcrypt::pg;

// Type modifier input: encrypted_text('pii') -> the keyring's modifier.
// An unknown keyring is an error, except while check_function_bodies is off:
// pg_dump scripts turn it off, and they create tables before the keyring
// rows are loaded.
extern "C" Datum colcrypt_keyring_typmod_in(PG_FUNCTION_ARGS) {
    ArrayType *modifiers = PG_GETARG_ARRAYTYPE_P(0);
    Datum *elements;
    int count;
    deconstruct_array(modifiers, CSTRINGOID, -2, false, TYPALIGN_CHAR, &elements, nullptr, &count);
    if (count != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("an encrypted type takes exactly one modifier, the keyring name"),
                        errhint("Write for example colcrypt.encrypted_text('pii').")));
    const char *name = DatumGetCString(elements[0]);
    int32 typmod = keyring_typmod_for_name(name);
    if (!in_restore() && keyring_name_for_typmod(typmod) == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring \"%s\" does not exist", name),
                        errhint("Create it first with SELECT colcrypt.create_key('%s').", name)));
    PG_RETURN_INT32(typmod);
}

extern "C" Datum colcrypt_keyring_typmod_out(PG_FUNCTION_ARGS) {
    int32 typmod = PG_GETARG_INT32(0);
    if (typmod < 0)
        PG_RETURN_CSTRING(pstrdup(""));
    char *name = keyring_name_for_typmod(typmod);
    // An unknown modifier prints as a number, which typmod input rejects
    // with a clear error instead of silently naming another keyring.
    PG_RETURN_CSTRING(name ? psprintf("('%s')", name) : psprintf("(%d)", typmod));
}
