// A function call site's last input and result, in fn_extra: the functions
// the planner hook inserts (_bind, _search_term, _search_terms) are
// evaluated for every row of a scan's filter with the same operand.
//
// The input may be plaintext: it is wiped when replaced, and when the call
// site's memory context goes.  The key holds what else the result depends
// on (the keyring modifier, the key versions, the user).
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

struct CallSiteKey {
    std::uint64_t parts[3];
};

// The result remembered at this call site for this key and these input
// bytes, into *result; false when there is none.
bool recall_call_site(FmgrInfo *flinfo, const CallSiteKey &key, const char *input, std::size_t size,
                      Datum *result);

// Remember result (copied into the call site's memory unless by_value) for
// this key and these input bytes; returns the copy.
Datum remember_call_site(FmgrInfo *flinfo, const CallSiteKey &key, const char *input, std::size_t size, Datum result,
                         bool by_value);

}  // namespace colcrypt::pg
