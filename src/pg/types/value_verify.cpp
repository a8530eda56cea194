// colcrypt._value_problem(value): why a stored value does not decrypt, or
// NULL when it does; behind colcrypt.verify().  The plaintext is wiped at
// once and never returned.  A key that cannot be loaded (retired version,
// unknown keyring, wrong master key) is probed once per key version and
// call site, in a subtransaction, and its error message (colcrypt's own,
// with no value in it) is the answer for every value under it.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_value_problem);
}

namespace colcrypt::pg {
namespace {

constexpr int kProbedKeys = 64;

struct ProbedKey {
    std::uint32_t keyring_id;
    std::uint32_t version;
    char *problem;  // nullptr: the key loads
};

// Key versions probed at this call site (fn_extra, in fn_mcxt).
struct ProbedKeys {
    int count;
    ProbedKey keys[kProbedKeys];
};

// Why data_key(keyring_id, version) fails, or nullptr; in a subtransaction.
char *probe_key(std::uint32_t keyring_id, std::uint32_t version, MemoryContext keep) {
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    char *volatile problem = nullptr;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
    PG_TRY();
    {
        (void) data_key(keyring_id, version);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context);
        CurrentResourceOwner = owner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context);
        CurrentResourceOwner = owner;
        if (error->sqlerrcode == ERRCODE_QUERY_CANCELED)
            ReThrowError(error);
        problem = MemoryContextStrdup(keep, error->message);
        FreeErrorData(error);
    }
    PG_END_TRY();
    return problem;
}

const char *key_problem(FunctionCallInfo fcinfo, std::uint32_t keyring_id, std::uint32_t version) {
    auto *probed = static_cast<ProbedKeys *>(fcinfo->flinfo->fn_extra);
    if (probed == nullptr) {
        probed = static_cast<ProbedKeys *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ProbedKeys)));
        fcinfo->flinfo->fn_extra = probed;
    }
    for (int i = 0; i < probed->count; i++)
        if (probed->keys[i].keyring_id == keyring_id && probed->keys[i].version == version)
            return probed->keys[i].problem;
    char *problem = probe_key(keyring_id, version, fcinfo->flinfo->fn_mcxt);
    if (probed->count < kProbedKeys)
        probed->keys[probed->count++] = ProbedKey{keyring_id, version, problem};
    return problem;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;
namespace core = colcrypt::core;

extern "C" Datum colcrypt_value_problem(PG_FUNCTION_ARGS) {
    struct varlena *value = PG_GETARG_VARLENA_P(0);
    const EncryptedType *type = encrypted_type_of(getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0)));
    if (type == nullptr)
        elog(ERROR, "colcrypt._value_problem called on a value of another type");
    core::Envelope envelope{};
    std::optional<CaughtError> malformed =
        cpp_try({core::Errc::malformed_value, core::Errc::unsupported_format}, [&] {
            envelope = core::parse_envelope(reinterpret_cast<const std::uint8_t *>(VARDATA(value)),
                                            VARSIZE(value) - VARHDRSZ);
        });
    if (malformed)
        PG_RETURN_TEXT_P(cstring_to_text(malformed->code == core::Errc::malformed_value ? "malformed value"
                                                                                         : "unsupported format"));
    if (const char *problem = key_problem(fcinfo, envelope.keyring_id, envelope.key_version))
        PG_RETURN_TEXT_P(cstring_to_text(problem));
    core::AesGcm &aead = data_key(envelope.keyring_id, envelope.key_version);
    auto *plaintext = static_cast<std::uint8_t *>(palloc(envelope.ciphertext_size + 1));
    std::optional<CaughtError> failed =
        cpp_try({core::Errc::authentication_failed}, [&] { core::open(aead, type->value_type, envelope, plaintext); });
    core::secure_wipe(plaintext, envelope.ciphertext_size);
    pfree(plaintext);
    if (failed)
        PG_RETURN_TEXT_P(cstring_to_text("does not authenticate (tampered, or under another key)"));
    PG_RETURN_NULL();
}
