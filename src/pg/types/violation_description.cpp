// Recognising PostgreSQL's violation describers on the call stack
// (types/violation_description.hpp says why and which).
#include "colcrypt/pg/types/violation_description.hpp"

#include <dlfcn.h>
#include <execinfo.h>

#include <cstring>

namespace colcrypt::pg {
namespace {

// Deep enough for colcrypt's output path, fmgr's three call functions and
// the describer's caller.
constexpr int kMaxFrames = 16;

bool named(const Dl_info &info, const char *const *names) {
    if (info.dli_sname == nullptr)
        return false;
    for (const char *const *name = names; *name != nullptr; name++)
        if (std::strcmp(info.dli_sname, *name) == 0)
            return true;
    return false;
}

// What a describer calls an output function through.  An output function
// called as an SQL function, straight from an expression, is not below it.
const char *const kDescriberCall[] = {"OidOutputFunctionCall", nullptr};
const char *const kOutputCalls[] = {"FunctionCall1Coll", "OutputFunctionCall", nullptr};
// Call output functions only to describe a violation (directly, or when
// their describer is inlined into them).
const char *const kDescribers[] = {"BuildIndexValueDescription", "ExecConstraints", "ExecPartitionCheckEmitError",
                                   "ExecWithCheckOptions", nullptr};
// Whose direct callees call output functions only to describe a row.
const char *const kRowDescriberCallers[] = {"ExecConstraints", "ExecPartitionCheckEmitError", "ExecWithCheckOptions",
                                            nullptr};

}  // namespace

bool describing_a_violation() {
    void *frames[kMaxFrames];
    int depth = backtrace(frames, kMaxFrames);
    Dl_info self;
    if (dladdr(reinterpret_cast<void *>(&describing_a_violation), &self) == 0)
        return false;
    bool through_describer_call = false;
    for (int i = 0; i < depth; i++) {
        Dl_info caller;
        // A return address, minus one: the call instruction itself, which is
        // inside the calling function even when the call ends it.
        if (dladdr(static_cast<char *>(frames[i]) - 1, &caller) == 0)
            return false;
        if (named(caller, kDescriberCall)) {
            through_describer_call = true;
            continue;
        }
        // colcrypt's own frames only below the output call: a colcrypt
        // function calling an output function is no describer.
        if ((!through_describer_call && caller.dli_fbase == self.dli_fbase) || named(caller, kOutputCalls))
            continue;
        if (!through_describer_call)
            return false;
        if (named(caller, kDescribers))
            return true;
        if (i + 1 >= depth)
            return false;
        Dl_info next;
        return dladdr(static_cast<char *>(frames[i + 1]) - 1, &next) != 0 && named(next, kRowDescriberCallers);
    }
    return false;
}

}  // namespace colcrypt::pg
