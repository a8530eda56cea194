// Random nonces: distinct, and never shared between a parent and its fork.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>

#include "colcrypt/core/crypto.hpp"

namespace colcrypt::test {
namespace {

using Nonce = std::array<std::uint8_t, core::kNonceSize>;

Nonce next(core::NonceSource &source) {
    Nonce n;
    source.next(n.data());
    return n;
}

// 10000 nonces span many refills of the 256-nonce batch.
TEST(NonceSource, TenThousandNoncesAreDistinct) {
    core::NonceSource source;
    std::set<Nonce> seen;
    for (int i = 0; i < 10000; ++i) {
        EXPECT_TRUE(seen.insert(next(source)).second) << i;
    }
}

// The parent draws one nonce so the batch is buffered, then forks.  The child
// inherits the buffered batch; it must not hand out the parent's next nonce.
TEST(NonceSource, ForkedChildDoesNotReuseParentNonces) {
    core::NonceSource source;
    next(source);

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        const Nonce child = next(source);
        const bool ok = write(fds[1], child.data(), child.size()) ==
                        static_cast<ssize_t>(child.size());
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    const Nonce parent = next(source);
    Nonce child{};
    ASSERT_EQ(read(fds[0], child.data(), child.size()), static_cast<ssize_t>(child.size()));
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_NE(child, parent);

    // The parent carries on with its own batch.
    EXPECT_NE(next(source), parent);
}

// Nonce the first child of a fork draws from source (inherited mid-batch).
Nonce child_nonce(core::NonceSource &source) {
    int fds[2];
    if (pipe(fds) != 0) {
        ADD_FAILURE() << "pipe";
        return {};
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const Nonce n = next(source);
        const bool ok = write(fds[1], n.data(), n.size()) == static_cast<ssize_t>(n.size());
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    Nonce n{};
    const bool read_ok = pid > 0 && read(fds[0], n.data(), n.size()) == static_cast<ssize_t>(n.size());
    close(fds[0]);
    int status = 0;
    const bool exited = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                        WEXITSTATUS(status) == 0;
    EXPECT_TRUE(read_ok && exited);
    return n;
}

// Siblings inherit the same batch: each must draw its own, and none may
// hand out what the parent hands out next.
TEST(NonceSource, SiblingChildrenDrawDifferentNonces) {
    core::NonceSource source;
    next(source);
    const Nonce first = child_nonce(source);
    const Nonce second = child_nonce(source);
    const Nonce parent = next(source);
    EXPECT_NE(first, second);
    EXPECT_NE(first, parent);
    EXPECT_NE(second, parent);
}

}  // namespace
}  // namespace colcrypt::test
