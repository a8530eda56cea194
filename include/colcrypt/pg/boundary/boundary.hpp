// The C++/PostgreSQL boundary.
//
// PostgreSQL reports errors with ereport(), which longjmps to the nearest
// PG_TRY or to the transaction abort handler.  A longjmp that crosses a C++
// frame skips its destructors (leaking memory and, worse, leaving key
// material unwiped); a C++ exception that reaches PostgreSQL's C frames
// terminates the server process.  One idiom keeps the two apart:
//
//   cpp_guard(body)  PostgreSQL -> C++.  Runs C++ code from PostgreSQL
//                    code.  Any exception is caught, the C++ frames unwind
//                    completely, and only then is it raised as a PostgreSQL
//                    error (core errors mapped to SQLSTATEs in boundary.cpp,
//                    the one place that does it).
//
//   cpp_try(codes, body)
//                    The same, except that a core::Error with one of the
//                    given codes is returned instead of raised, for callers
//                    that report that failure in their own words (a wrapped
//                    key that does not authenticate, a malformed envelope
//                    typed as input, bad master key text).  Its message is a
//                    literal of the core's, safe to show.
//
//   pg_guard(body)   C++ -> PostgreSQL.  Runs PostgreSQL code from inside C++
//                    code.  An ereport(ERROR) inside is caught with PG_TRY,
//                    the error state is copied and flushed, and it continues
//                    as a PgError exception, so C++ destructors run on the way
//                    out; cpp_guard re-raises the original error unchanged.
//
//   new_context_owned<T>(context)->build(args...)
//                    A C++ object that must be destroyed however the
//                    transaction ends (one holding key material): built in
//                    memory of a PostgreSQL memory context whose reset or
//                    deletion runs its destructor.  No PG_TRY owns it.
//
// Rules:
//   - Code inside cpp_guard and cpp_try calls PostgreSQL only through pg_guard.
//   - Code inside pg_guard creates no C++ objects with destructors: a longjmp
//     out of it would skip them.
//   - Nothing else in src/pg catches exceptions.  Everything else is plain
//     PostgreSQL-style code that may ereport freely, because no C++ object
//     with a destructor is live in it.
#pragma once

#include <exception>
#include <initializer_list>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "colcrypt/core/error.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

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

// A core error that cpp_try caught for its caller: the code and the core's
// literal message.  Trivially destructible like PendingError, so it may
// live in frames that longjmp.
struct CaughtError {
    core::Errc code;
    const char *message;
    const char *what() const noexcept { return message; }
};
static_assert(std::is_trivially_destructible_v<std::optional<CaughtError>>);

// Fill err from the exception being handled.  Call only inside a catch block.
void capture_current_exception(PendingError &err) noexcept;

// Raise err as a PostgreSQL ERROR.
[[noreturn]] void raise_pending_error(const PendingError &err);

// Raise what cpp_try caught, exactly as cpp_guard would have: for callers
// that note a failure (a statistic) before it is reported.
[[noreturn]] void raise_caught_error(const CaughtError &caught);

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
std::optional<CaughtError> cpp_try(std::initializer_list<core::Errc> codes, Body &&body) {
    PendingError err{};
    try {
        body();
        return std::nullopt;
    } catch (const core::Error &e) {
        for (core::Errc code : codes) {
            if (e.code() == code)
                return CaughtError{e.code(), e.what()};
        }
        capture_current_exception(err);
    } catch (...) {
        capture_current_exception(err);
    }
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

// A C++ object owned by a memory context (new_context_owned).  The holder
// is trivially destructible; the object is destroyed by the context's reset
// callback once it has been built.
template <typename T>
struct ContextOwned {
    T *object;  // nullptr until built
    alignas(T) unsigned char storage[sizeof(T)];

    // Build the object: call inside cpp_guard or cpp_try, since the
    // constructor may throw.  Makes no PostgreSQL call.
    template <typename... Args>
    T *build(Args &&...args) {
        object = new (storage) T(std::forward<Args>(args)...);
        return object;
    }
};

namespace detail {
template <typename T>
void destroy_context_owned(void *arg) {
    auto *holder = static_cast<ContextOwned<T> *>(arg);
    if (holder->object != nullptr) {
        holder->object->~T();
        holder->object = nullptr;
    }
}
}  // namespace detail

// Room for a T in context, with the reset callback registered before the
// object exists: whatever happens after build(), resetting or deleting the
// context destroys it.  PostgreSQL-style code (may ereport); call it before
// anything secret is computed.
template <typename T>
ContextOwned<T> *new_context_owned(MemoryContext context) {
    auto *holder = static_cast<ContextOwned<T> *>(MemoryContextAllocZero(context, sizeof(ContextOwned<T>)));
    auto *callback = static_cast<MemoryContextCallback *>(MemoryContextAlloc(context, sizeof(MemoryContextCallback)));
    callback->func = detail::destroy_context_owned<T>;
    callback->arg = holder;
    MemoryContextRegisterResetCallback(context, callback);
    return holder;
}

}  // namespace colcrypt::pg
