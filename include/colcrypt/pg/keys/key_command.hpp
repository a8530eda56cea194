// Running a key command (colcrypt.master_key_command and
// colcrypt.previous_master_key_command): its standard output is the key.
//
// The command runs in a process group of its own with a deadline
// (colcrypt.master_key_command_timeout): one that never returns, a vault
// CLI waiting for a password say, is killed with its children, and the
// error names the setting, never the command line, which may hold tokens.
// The postmaster runs it while it starts, with signals blocked: a pending
// stop request (pg_ctl stop) ends the wait too.
#pragma once

#include <cstddef>

namespace colcrypt::pg {

// Run command; its output goes to buf (NUL-terminated; at most
// buf_size - 1 bytes) and its size is returned.  ERROR, naming guc_name,
// when it cannot be started, fails, prints too much, or misses the
// deadline; buf is wiped then.
std::size_t run_key_command(const char *command, const char *guc_name, char *buf, std::size_t buf_size);

}  // namespace colcrypt::pg
