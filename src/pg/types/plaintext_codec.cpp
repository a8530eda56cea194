// The plaintext types' values, their sealed form, and their input with the
// input left out of errors.  See include/colcrypt/pg/types/plaintext_codec.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
}

#include "colcrypt/core/canonical_form.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/types/plaintext_codec.hpp"

namespace colcrypt::pg {
namespace {

// jsonb's send format version, the first byte of its sealed form.
constexpr char kJsonbVersion = 1;

// The base type's I/O functions, looked up once per backend.
struct PlaintextIo {
    bool looked_up;
    Oid io_param;
    FmgrInfo input, output, receive, send;
};
PlaintextIo io_cache[kEncryptedTypeCount];

const PlaintextIo &plaintext_io(const EncryptedType &type) {
    PlaintextIo &io = io_cache[&type - kEncryptedTypes];
    if (!io.looked_up) {
        Oid input, output, receive, send;
        bool varlena;
        getTypeInputInfo(type.plaintext_type, &input, &io.io_param);
        getTypeOutputInfo(type.plaintext_type, &output, &varlena);
        getTypeBinaryInputInfo(type.plaintext_type, &receive, &io.io_param);
        getTypeBinaryOutputInfo(type.plaintext_type, &send, &varlena);
        fmgr_info_cxt(input, &io.input, TopMemoryContext);
        fmgr_info_cxt(output, &io.output, TopMemoryContext);
        fmgr_info_cxt(receive, &io.receive, TopMemoryContext);
        fmgr_info_cxt(send, &io.send, TopMemoryContext);
        io.looked_up = true;
    }
    return io;
}

struct varlena *new_varlena(std::size_t size) {
    auto *v = static_cast<struct varlena *>(palloc(VARHDRSZ + size));
    SET_VARSIZE(v, VARHDRSZ + size);
    return v;
}

// The base type's message for a data exception, with the input left out.
const char *redacted_message(int sqlstate) {
    switch (sqlstate) {
    case ERRCODE_INVALID_TEXT_REPRESENTATION:
    case ERRCODE_INVALID_DATETIME_FORMAT:
        return "invalid input syntax for type %s";
    case ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE:
        return "value out of range for type %s";
    case ERRCODE_DATETIME_VALUE_OUT_OF_RANGE:
        return "date/time field value out of range for type %s";
    case ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE:
        return "time zone displacement out of range for type %s";
    case ERRCODE_INVALID_BINARY_REPRESENTATION:
        return "invalid binary value for type %s";
    case ERRCODE_UNTRANSLATABLE_CHARACTER:
        return "unsupported Unicode escape sequence in a value of type %s";
    case ERRCODE_CHARACTER_NOT_IN_REPERTOIRE:
        return "invalid byte sequence in a value of type %s";
    default:
        return "invalid input for type %s";
    }
}

[[noreturn]] void raise_redacted(const EncryptedType &type, int sqlstate) {
    const char *format = redacted_message(sqlstate);
    ereport(ERROR, (errcode(sqlstate), errmsg_internal(format, format_type_be(type.plaintext_type)),
                    errdetail("The input is not shown: it is a plaintext of colcrypt.%s.", type.name),
                    errhint("Check the value against the input rules of type %s.",
                            format_type_be(type.plaintext_type))));
    pg_unreachable();
}

using PlaintextParser = Datum (*)(const PlaintextIo &io, void *arg);

// Runs the base type's input: its data exceptions are caught here, before
// anything reported them, and raised again without their text.  Any other
// error (out of memory, a cancel) goes on unchanged.  Plain PostgreSQL
// code: no C++ object with a destructor is live across the PG_TRY.
Datum parse_redacted(const EncryptedType &type, PlaintextParser parse, void *arg) {
    const PlaintextIo &io = plaintext_io(type);
    MemoryContext caller = CurrentMemoryContext;
    Datum result = (Datum) 0;
    int sqlstate = 0;
    PG_TRY();
    {
        result = parse(io, arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        sqlstate = geterrcode();
        if (ERRCODE_TO_CATEGORY(sqlstate) != ERRCODE_DATA_EXCEPTION &&
            sqlstate != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
            PG_RE_THROW();
        FlushErrorState();
    }
    PG_END_TRY();
    if (sqlstate != 0)
        raise_redacted(type, sqlstate);
    return result;
}

Datum parse_text(const PlaintextIo &io, void *arg) {
    return InputFunctionCall(const_cast<FmgrInfo *>(&io.input), static_cast<char *>(arg), io.io_param, -1);
}

Datum parse_binary(const PlaintextIo &io, void *arg) {
    return ReceiveFunctionCall(const_cast<FmgrInfo *>(&io.receive), static_cast<StringInfo>(arg), io.io_param, -1);
}

}  // namespace

struct varlena *sealed_form_of(core::ValueType value_type, Datum plaintext) {
    const EncryptedType &type = encrypted_type(value_type);
    switch (type.sealed_form) {
    case SealedForm::varlena_bytes:
        return PG_DETOAST_DATUM_PACKED(plaintext);
    case SealedForm::jsonb_text: {
        Jsonb *jsonb = DatumGetJsonbP(plaintext);
        StringInfoData text;
        initStringInfo(&text);
        appendStringInfoChar(&text, kJsonbVersion);
        (void) JsonbToCString(&text, &jsonb->root, VARSIZE(jsonb));
        struct varlena *sealed = new_varlena(text.len);
        std::memcpy(VARDATA(sealed), text.data, text.len);
        core::secure_wipe(text.data, text.len);
        pfree(text.data);
        return sealed;
    }
    case SealedForm::binary_send:
        return reinterpret_cast<struct varlena *>(SendFunctionCall(
            const_cast<FmgrInfo *>(&plaintext_io(type).send), plaintext));
    }
    pg_unreachable();
}

Datum datum_of_sealed_form(core::ValueType value_type, const char *bytes, std::size_t size) {
    const EncryptedType &type = encrypted_type(value_type);
    switch (type.sealed_form) {
    case SealedForm::varlena_bytes: {
        struct varlena *v = new_varlena(size);
        std::memcpy(VARDATA(v), bytes, size);
        return PointerGetDatum(v);
    }
    case SealedForm::jsonb_text: {
        if (size < 1 || bytes[0] != kJsonbVersion)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("unknown sealed form of a colcrypt.%s value", type.name),
                            errdetail("The value authenticates but does not start with jsonb version 1.")));
        char *text = static_cast<char *>(palloc(size));
        std::memcpy(text, bytes + 1, size - 1);
        text[size - 1] = '\0';
        Datum result = parse_redacted(type, parse_text, text);
        core::secure_wipe(text, size);
        pfree(text);
        return result;
    }
    case SealedForm::binary_send: {
        StringInfoData buf;
        buf.data = const_cast<char *>(bytes);
        buf.len = static_cast<int>(size);
        buf.maxlen = static_cast<int>(size);
        buf.cursor = 0;
        return parse_redacted(type, parse_binary, &buf);
    }
    }
    pg_unreachable();
}

Datum plaintext_from_text(core::ValueType value_type, const char *text) {
    return parse_redacted(encrypted_type(value_type), parse_text, const_cast<char *>(text));
}

Datum plaintext_from_binary(core::ValueType value_type, StringInfo buf) {
    return parse_redacted(encrypted_type(value_type), parse_binary, buf);
}

char *plaintext_to_text(core::ValueType value_type, Datum plaintext) {
    return OutputFunctionCall(const_cast<FmgrInfo *>(&plaintext_io(encrypted_type(value_type)).output), plaintext);
}

bytea *plaintext_to_binary(core::ValueType value_type, Datum plaintext) {
    return SendFunctionCall(const_cast<FmgrInfo *>(&plaintext_io(encrypted_type(value_type)).send), plaintext);
}

int order_sealed_plaintexts(core::ValueType value_type, core::Normalization keyring_normalization, const char *a,
                            std::size_t a_size, const char *b, std::size_t b_size) {
    const EncryptedType &type = encrypted_type(value_type);
    TypeCacheEntry *cache = lookup_type_cache(type.plaintext_type, TYPECACHE_EQ_OPR_FINFO);
    if (!OidIsValid(cache->eq_opr_finfo.fn_oid))
        elog(ERROR, "type %s has no default equality", format_type_be(type.plaintext_type));
    Datum da = datum_of_sealed_form(value_type, a, a_size);
    Datum db = datum_of_sealed_form(value_type, b, b_size);
    bool equal = DatumGetBool(FunctionCall2Coll(&cache->eq_opr_finfo, InvalidOid, da, db));
    if (equal)
        return 0;
    const auto *ua = reinterpret_cast<const std::uint8_t *>(a);
    const auto *ub = reinterpret_cast<const std::uint8_t *>(b);
    int c = cpp_guard([&] { return core::compare_canonical(value_type, keyring_normalization, ua, a_size, ub, b_size); });
    if (c != 0)
        return c;
    // Canonical forms agree where `=` does not: a base type whose equality
    // the canonical form misjudges.  Still a consistent order, never 0.
    c = core::compare_normalized(core::Normalization::none, ua, a_size, ub, b_size);
    return c != 0 ? c : 1;
}

}  // namespace colcrypt::pg
