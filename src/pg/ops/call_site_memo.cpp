// See include/colcrypt/pg/ops/call_site_memo.hpp.
#include "colcrypt/pg/ops/call_site_memo.hpp"

#include <cstring>

extern "C" {
#include "utils/datum.h"
#include "utils/memutils.h"
}

#include "colcrypt/core/secure.hpp"

namespace colcrypt::pg {
namespace {

struct CallSiteMemo {
    CallSiteKey key;
    std::size_t size;
    char *input;  // may be plaintext
    Datum result;
    bool by_value;
};

void wipe_call_site_memo(void *arg) {
    auto *memo = static_cast<CallSiteMemo *>(arg);
    if (memo->input != nullptr)
        core::secure_wipe(memo->input, memo->size);
}

}  // namespace

bool recall_call_site(FmgrInfo *flinfo, const CallSiteKey &key, const char *input, std::size_t size,
                      Datum *result) {
    auto *memo = static_cast<CallSiteMemo *>(flinfo->fn_extra);
    if (memo == nullptr || std::memcmp(&memo->key, &key, sizeof key) != 0 || memo->size != size ||
        std::memcmp(memo->input, input, size) != 0)
        return false;
    *result = memo->result;
    return true;
}

Datum remember_call_site(FmgrInfo *flinfo, const CallSiteKey &key, const char *input, std::size_t size, Datum result,
                         bool by_value) {
    MemoryContext caller = MemoryContextSwitchTo(flinfo->fn_mcxt);
    auto *memo = static_cast<CallSiteMemo *>(flinfo->fn_extra);
    if (memo == nullptr) {
        memo = static_cast<CallSiteMemo *>(palloc0(sizeof(CallSiteMemo)));
        auto *callback = static_cast<MemoryContextCallback *>(palloc(sizeof(MemoryContextCallback)));
        callback->func = wipe_call_site_memo;
        callback->arg = memo;
        MemoryContextRegisterResetCallback(flinfo->fn_mcxt, callback);
        flinfo->fn_extra = memo;
    } else {
        core::secure_wipe(memo->input, memo->size);
        pfree(memo->input);
        if (!memo->by_value)
            pfree(DatumGetPointer(memo->result));
    }
    memo->key = key;
    memo->size = size;
    memo->input = static_cast<char *>(palloc(size + 1));
    std::memcpy(memo->input, input, size);
    memo->by_value = by_value;
    memo->result = by_value ? result : datumCopy(result, false, -1);
    MemoryContextSwitchTo(caller);
    return memo->result;
}

}  // namespace colcrypt::pg
