// What a value's header says, without decrypting: colcrypt.describe() and
// the header readers behind retire_key's scan.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/types/value_codec.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_describe);
PG_FUNCTION_INFO_V1(colcrypt_value_keyring_id);
PG_FUNCTION_INFO_V1(colcrypt_value_key_version);
}

using namespace colcrypt::pg;

// colcrypt.describe(value): keyring, key version, term bits, stored size,
// format version, algorithm.
extern "C" Datum colcrypt_describe(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_PP(0);
    colcrypt::core::Envelope envelope = parse_value(value);
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    tupdesc = BlessTupleDesc(tupdesc);

    char *keyring = keyring_name_for_id(envelope.keyring_id);
    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    values[0] = keyring ? CStringGetTextDatum(keyring) : (Datum) 0;
    nulls[0] = keyring == nullptr;
    values[1] = Int32GetDatum((int32) envelope.key_version);
    values[2] = Int32GetDatum((int32) envelope.term_size * 8);
    values[3] = Int32GetDatum((int32) envelope.total_size);
    values[4] = Int32GetDatum((int32) envelope.format_version);
    values[5] = CStringGetTextDatum(envelope.algorithm == colcrypt::core::kAlgorithmAes256Gcm ? "aes-256-gcm"
                                                                                              : "unknown");
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

// colcrypt._keyring_id(value), colcrypt._key_version(value): header fields
// alone, cheap enough to scan whole tables (colcrypt.retire_key).
extern "C" Datum colcrypt_value_keyring_id(PG_FUNCTION_ARGS) {
    PG_RETURN_INT32((int32) parse_value(PG_GETARG_VARLENA_PP(0)).keyring_id);
}

extern "C" Datum colcrypt_value_key_version(PG_FUNCTION_ARGS) {
    PG_RETURN_INT32((int32) parse_value(PG_GETARG_VARLENA_PP(0)).key_version);
}
