// Whether an output function is being called by PostgreSQL to describe a
// constraint violation ("Key (email)=(...) already exists.", "Failing row
// contains (...)").
//
// PostgreSQL builds those details with the columns' output functions for
// any role with SELECT on the columns.  For a role without the decrypt
// grant, an encrypted column's output function raises 42501, and that error
// then replaces the violation: an application sees "permission denied"
// where it expects 23505 (unique), 23P01 (exclusion), 23514 (check) or
// 23502 (not null).  While a violation is described, the output functions
// show such a role the value's envelope instead (what ciphertext output
// mode shows anyone); the log redaction (hooks/log_redaction.hpp) then
// replaces the detail for the table anyway.
//
// PostgreSQL passes no context to an output function, so the caller is
// recognised from the call stack, on the denied path only (never on an
// ordinary output): the output function must be called through
// OidOutputFunctionCall, as the describers call it, and the first caller
// outside colcrypt and the fmgr call functions must be
// BuildIndexValueDescription (unique and exclusion
// violations, duplicates found by CREATE UNIQUE INDEX), or a frame called
// directly by ExecConstraints, ExecPartitionCheckEmitError or
// ExecWithCheckOptions (their static ExecBuildSlotValueDescription, which
// only describes rows): those functions call output functions for nothing
// else.  An expression evaluated by a check constraint reaches output
// functions through the expression interpreter, which is never such a
// frame.  A foreign-key violation (23503) is described by
// ri_ReportViolation, a static function reached through other static
// frames (the RI trigger, often tail-called, and the trigger queue's):
// recognised when every frame between OidOutputFunctionCall and the first
// named one is a static function of the server binary, and that named one
// is the trigger queue (AfterTriggerEndQuery, AfterTriggerFireDeferred,
// AfterTriggerSetState), an RI trigger function, or the checks of ADD
// FOREIGN KEY and of a detached partition (RI_Initial_Check,
// RI_PartitionRemove_Check).  A trigger or function of anyone else, C or
// PL/pgSQL, has a named frame of its own in between.
#pragma once

namespace colcrypt::pg {

bool describing_a_violation();

}  // namespace colcrypt::pg
