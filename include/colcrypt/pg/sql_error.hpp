// An error the PostgreSQL layer throws from inside cpp_guard when it knows
// better than the core's generic mapping what the user did wrong (for
// example: a malformed envelope typed as input is invalid input syntax, not
// corrupted data).  All strings must be literals: they are not copied.
#pragma once

#include <exception>

namespace colcrypt::pg {

class SqlError : public std::exception {
public:
    SqlError(int sqlstate, const char *message, const char *detail = nullptr,
             const char *hint = nullptr) noexcept
        : sqlstate_(sqlstate), message_(message), detail_(detail), hint_(hint) {}
    int sqlstate() const noexcept { return sqlstate_; }
    const char *what() const noexcept override { return message_; }
    const char *detail() const noexcept { return detail_; }
    const char *hint() const noexcept { return hint_; }

private:
    int sqlstate_;
    const char *message_;
    const char *detail_;
    const char *hint_;
};

}  // namespace colcrypt::pg
