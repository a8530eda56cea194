// Recognising PostgreSQL's violation describers on the call stack
// (types/violation_description.hpp says why and which).
#include "colcrypt/pg/compat/postgres.hpp"

#include <dlfcn.h>
#include <execinfo.h>

#include <cstring>

extern "C" {
#include "fmgr.h"
}

#include "colcrypt/pg/types/violation_description.hpp"

namespace colcrypt::pg {
namespace {

// Deep enough for colcrypt's output path, fmgr's call functions and the
// foreign-key describer's chain of static frames up to the trigger queue.
constexpr int kMaxFrames = 24;
// The static frames between OidOutputFunctionCall and a foreign-key
// describer's named caller: ri_ReportViolation, ri_PerformCheck,
// RI_FKey_check or ri_restrict, ExecCallTriggerFunc, AfterTriggerExecute,
// afterTriggerInvokeEvents.
constexpr int kMaxStaticFrames = 8;

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
// Above a foreign-key violation's description: the trigger queue that runs
// the RI triggers, the checks of ALTER TABLE ... ADD FOREIGN KEY and of a
// detached partition, and the RI trigger functions themselves (when not
// tail-called).  Between them and the output call only static frames of
// the server binary: PostgreSQL's own code, no trigger or function of
// anyone else.
const char *const kForeignKeyCallers[] = {
    "AfterTriggerEndQuery", "AfterTriggerFireDeferred", "AfterTriggerSetState",
    "RI_Initial_Check",     "RI_PartitionRemove_Check", "RI_FKey_check_ins",
    "RI_FKey_check_upd",    "RI_FKey_noaction_del",     "RI_FKey_noaction_upd",
    "RI_FKey_restrict_del", "RI_FKey_restrict_upd",     nullptr};

// Whether frames[from...] are one to kMaxStaticFrames static functions of
// the server binary (no symbol), then one of kForeignKeyCallers.
bool foreign_key_describer(void *const *frames, int from, int depth) {
    Dl_info server;
    if (dladdr(reinterpret_cast<void *>(&OidOutputFunctionCall), &server) == 0)
        return false;
    for (int i = from; i < depth && i < from + kMaxStaticFrames + 1; i++) {
        Dl_info caller;
        if (dladdr(static_cast<char *>(frames[i]) - 1, &caller) == 0 || caller.dli_fbase != server.dli_fbase)
            return false;
        if (caller.dli_sname != nullptr)
            return i > from && named(caller, kForeignKeyCallers);
    }
    return false;
}

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
        if (dladdr(static_cast<char *>(frames[i + 1]) - 1, &next) != 0 && named(next, kRowDescriberCallers))
            return true;
        return foreign_key_describer(frames, i, depth);
    }
    return false;
}

}  // namespace colcrypt::pg
