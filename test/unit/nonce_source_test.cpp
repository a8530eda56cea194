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

}  // namespace
}  // namespace colcrypt::test
