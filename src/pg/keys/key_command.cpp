// Running a key command with a deadline.  See
// include/colcrypt/pg/keys/key_command.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

extern "C" {
#include "miscadmin.h"
#include "port.h"
#include "portability/instr_time.h"
}

#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/key_command.hpp"

namespace colcrypt::pg {
namespace {

constexpr int kPollMs = 100;

// In the child: its own process group, the pipe as standard output,
// /dev/null as input, signals as a fresh process has them; then the shell.
[[noreturn]] void exec_command(const char *command, int out) {
    (void) setpgid(0, 0);
    if (dup2(out, STDOUT_FILENO) < 0)
        _exit(126);
    close(out);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        (void) dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    // Nothing else of the server's: not the client's socket, not the
    // postmaster's pipes and files.
    (void) syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2})
        (void) signal(sig, SIG_DFL);
    execl("/bin/sh", "sh", "-c", command, (char *) nullptr);
    _exit(127);
}

// Whether the command must be abandoned: the postmaster has the stop
// signals blocked while it starts; a backend has been asked to terminate
// or cancel (the other interrupts it serves need not stop the command).
bool stop_requested() {
    if (IsUnderPostmaster)
        return ProcDiePending || QueryCancelPending;
    sigset_t pending;
    if (sigpending(&pending) != 0)
        return false;
    return sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT) || sigismember(&pending, SIGQUIT);
}

void kill_group(pid_t pid) {
    (void) kill(-pid, SIGKILL);
    (void) kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

long elapsed_ms(instr_time start) {
    instr_time now;
    INSTR_TIME_SET_CURRENT(now);
    INSTR_TIME_SUBTRACT(now, start);
    return (long) INSTR_TIME_GET_MILLISEC(now);
}

}  // namespace

std::size_t run_key_command(const char *command, const char *guc_name, char *buf, std::size_t buf_size) {
    int timeout_s = guc_master_key_command_timeout;
    ereport(LOG, (errmsg("colcrypt: running %s (timeout %d s)", guc_name, timeout_s)));
    int fds[2];
    if (pipe(fds) != 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not run %s: %m", guc_name)));
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        int save_errno = errno;
        close(fds[0]);
        close(fds[1]);
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not run %s: %m", guc_name)));
    }
    if (pid == 0) {
        close(fds[0]);
        exec_command(command, fds[1]);
    }
    close(fds[1]);

    // Read until end of output, the deadline, or a stop request.
    instr_time start;
    INSTR_TIME_SET_CURRENT(start);
    std::size_t n = 0;
    bool too_long = false, timed_out = false, stopped = false;
    for (;;) {
        if (elapsed_ms(start) >= timeout_s * 1000L) {
            timed_out = true;
            break;
        }
        if (stop_requested()) {
            stopped = true;
            break;
        }
        struct pollfd poll_fd = {fds[0], POLLIN, 0};
        int ready = poll(&poll_fd, 1, kPollMs);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        char sink[256];
        // Past the buffer, output is drained so the command is not killed
        // by SIGPIPE half-way; it is an error all the same.
        char *into = n < buf_size - 1 ? buf + n : sink;
        std::size_t room = n < buf_size - 1 ? buf_size - 1 - n : sizeof sink;
        ssize_t got = read(fds[0], into, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;  // end of output (or a read error: the exit status tells)
        if (into == sink)
            too_long = true;
        else
            n += (std::size_t) got;
    }
    close(fds[0]);

    // The exit status, within what is left of the deadline.
    int status = 0;
    bool exited = false;
    while (!timed_out && !stopped) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            exited = true;
            break;
        }
        if (done < 0 && errno != EINTR)
            break;
        if (elapsed_ms(start) >= timeout_s * 1000L)
            timed_out = true;
        else if (stop_requested())
            stopped = true;
        else
            pg_usleep(kPollMs * 1000L);
    }
    if (!exited)
        kill_group(pid);
    if (timed_out || stopped || !exited || status != 0 || too_long || n >= buf_size - 1)
        core::secure_wipe(buf, buf_size);
    if (timed_out)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("%s did not finish within %d s", guc_name, timeout_s),
                        errdetail("It was killed, with every process it started."),
                        errhint("Check that the command runs without waiting for input, or raise "
                                "colcrypt.master_key_command_timeout.")));
    // A backend reports its own cancel or termination, with PostgreSQL's
    // SQLSTATE for it; the postmaster, starting, has no such handling.
    if (stopped && IsUnderPostmaster)
        CHECK_FOR_INTERRUPTS();
    if (stopped)
        ereport(ERROR, (errcode(ERRCODE_ADMIN_SHUTDOWN),
                        errmsg("%s was interrupted by a request to stop", guc_name)));
    if (!exited)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("could not wait for %s: %m", guc_name)));
    if (status != 0) {
        char *reason = wait_result_to_str(status);
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("%s failed", guc_name),
                        errdetail("The command %s.", reason),
                        errhint("The command must print the key on standard output and exit with status 0.")));
    }
    if (too_long || n >= buf_size - 1)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("%s printed too much to be a key", guc_name),
                        errhint("The command must print 64 hex digits or 44 base64 characters.")));
    buf[n] = '\0';
    return n;
}

}  // namespace colcrypt::pg
