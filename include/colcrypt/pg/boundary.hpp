// The C++/PostgreSQL boundary.
//
// PostgreSQL reports errors with ereport(), which longjmps to the nearest
// PG_TRY or to the transaction abort handler.  A longjmp that crosses a C++
// frame skips its destructors (leaking memory and, worse, leaving key
// material unwiped); a C++ exception that reaches PostgreSQL's C frames
// terminates the server process.  Two wrappers keep the two apart:
//
//   cpp_guard(body)  PostgreSQL -> C++.  Runs C++ code from an SQL-callable
//                    function.  Any exception is caught, the C++ frames unwind
//                    completely, and only then is it raised as a PostgreSQL
//                    error (core errors mapped to SQLSTATEs in boundary.cpp).
//
//   pg_guard(body)   C++ -> PostgreSQL.  Runs PostgreSQL code from inside C++
//                    code.  An ereport(ERROR) inside is caught with PG_TRY,
//                    the error state is copied and flushed, and it continues
//                    as a PgError exception, so C++ destructors run on the way
//                    out; cpp_guard re-raises the original error unchanged.
//
// Rules:
//   - Code inside cpp_guard calls PostgreSQL only through pg_guard.
//   - Code inside pg_guard creates no C++ objects with destructors: a longjmp
//     out of it would skip them.
//   - Everything else in src/pg is plain PostgreSQL-style code that may
//     ereport freely, because no C++ object with a destructor is live in it.
#pragma once

#include <exception>
#include <type_traits>

#include "colcrypt/pg/postgres.hpp"

extern "C" {
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace colcrypt::pg {

// A PostgreSQL error travelling through C++ frames as an exception.  Holds
// the copied ErrorData (palloc'd in the memory context that was current when
// pg_guard was entered).
class PgError : public std::exception {
public:
    explicit PgError(ErrorData *data) noexcept : data_(data) {}
    ErrorData *data() const noexcept { return data_; }
    const char *what() const noexcept override { return "PostgreSQL error"; }

private:
    ErrorData *data_;
};

// An error caught in C++ and waiting to be raised once the C++ frames are
// gone.  Trivially destructible on purpose: it lives in the frame that
// longjmps.
struct PendingError {
    ErrorData *pg_error;  // set when the exception was a PgError
    int sqlstate;
    const char *message;  // static strings only (core messages are literals)
    const char *detail;
    const char *hint;
};
static_assert(std::is_trivially_destructible_v<PendingError>);

// Fill err from the exception being handled.  Call only inside a catch block.
void capture_current_exception(PendingError &err) noexcept;

// Raise err as a PostgreSQL ERROR.
[[noreturn]] void raise_pending_error(const PendingError &err);

template <typename Body>
auto cpp_guard(Body &&body) -> decltype(body()) {
    PendingError err{};
    try {
        return body();
    } catch (...) {
        capture_current_exception(err);
    }
    // The try block and every C++ frame below it are gone: safe to longjmp.
    raise_pending_error(err);
}

template <typename Body>
void pg_guard(Body &&body) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *volatile error = nullptr;
    PG_TRY();
    {
        body();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr)
        throw PgError(error);
}

}  // namespace colcrypt::pg
