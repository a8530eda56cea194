// Raising C++ errors as PostgreSQL errors: the one place core error codes
// become SQLSTATEs.  See include/colcrypt/pg/boundary/boundary.hpp for the
// rules.
#include "colcrypt/pg/boundary/boundary.hpp"

#include <new>

#include "colcrypt/core/error.hpp"

namespace colcrypt::pg {

namespace {

using core::Errc;

// SQLSTATE, detail and hint for each core error.  Core messages are fixed
// literals, so they can be shown as they are.
void describe_core_error(Errc code, const char *message, PendingError &err) {
    err.message = message;
    switch (code) {
    case Errc::invalid_argument:
        err.sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
        break;
    case Errc::malformed_value:
        err.sqlstate = ERRCODE_DATA_CORRUPTED;
        err.detail = "The stored bytes are not a well-formed colcrypt value.";
        err.hint = "Check the value with colcrypt.describe(); restore it from a backup if it was damaged.";
        break;
    case Errc::unsupported_format:
        err.sqlstate = ERRCODE_FEATURE_NOT_SUPPORTED;
        err.hint = "The value may have been written by a newer version of colcrypt.";
        break;
    case Errc::authentication_failed:
        err.sqlstate = ERRCODE_DATA_CORRUPTED;
        err.detail = "The value was altered or truncated, or it was moved from another keyring, key version or type.";
        break;
    case Errc::invalid_key_material:
        err.sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
        break;
    case Errc::crypto_failure:
        err.sqlstate = ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
        break;
    }
}

}  // namespace

void capture_current_exception(PendingError &err) noexcept {
    err = PendingError{};
    try {
        throw;
    } catch (const PgError &e) {
        err.pg_error = e.data();
    } catch (const core::Error &e) {
        describe_core_error(e.code(), e.what(), err);
    } catch (const std::bad_alloc &) {
        err.sqlstate = ERRCODE_OUT_OF_MEMORY;
        err.message = "out of memory";
    } catch (...) {
        // Deliberately not what(): an unknown exception's text is not ours
        // to vet for secrets.
        err.sqlstate = ERRCODE_INTERNAL_ERROR;
        err.message = "unexpected C++ exception in colcrypt";
    }
}

void raise_caught_error(const CaughtError &caught) {
    PendingError err{};
    describe_core_error(caught.code, caught.message, err);
    raise_pending_error(err);
}

void raise_pending_error(const PendingError &err) {
    if (err.pg_error != nullptr)
        ReThrowError(err.pg_error);
    ereport(ERROR, (errcode(err.sqlstate), errmsg_internal("%s", err.message),
                    err.detail ? errdetail_internal("%s", err.detail) : 0,
                    err.hint ? errhint("%s", err.hint) : 0));
    pg_unreachable();
}

}  // namespace colcrypt::pg
