// Per-value cost of the crypto core, without PostgreSQL.
//
// Times what colcrypt does for one value of 16, 64 and 1024 bytes:
//   seal_term   blind-index term + seal (what an INSERT of an indexed value costs)
//   seal        seal without a term
//   open        parse + open (what reading a value costs)
//   term        BlindIndex::term alone (HMAC-SHA256, truncated to 8 bytes)
// and, to show what the wrappers add, the primitives under them:
//   gcm_encrypt AesGcm::encrypt with a 25-byte AAD (the envelope's)
//   hmac        HmacSha256::compute
//   nonce       NonceSource::next (size 0)
//
// Output, one CSV line per repetition: colcrypt,<operation>,<bytes>,<rep>,<ns per op>.
// Time is the thread's CPU time, like `openssl speed` (user CPU time), so other
// processes on the machine disturb the figures less.  bench/run.sh takes medians.
//
//   core_bench [repetitions] [milliseconds per repetition] [operation]
// (with an operation name, only that operation is run: for profiling)
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/secure.hpp"

namespace core = colcrypt::core;

namespace {

constexpr std::size_t kTermSize = 8;  // the default 64-bit term
constexpr std::uint32_t kKeyringId = 1;
constexpr std::uint32_t kKeyVersion = 1;

double cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Iterations that take about target_ns, found by doubling.
long calibrate(const std::function<void()> &op, double target_ns) {
    long n = 1;
    for (;;) {
        double start = cpu_ns();
        for (long i = 0; i < n; ++i) op();
        double elapsed = cpu_ns() - start;
        if (elapsed > target_ns / 8 || n > (1L << 30)) {
            return elapsed <= 0 ? n : static_cast<long>(n * target_ns / elapsed) + 1;
        }
        n *= 2;
    }
}

const char *only = nullptr;

void run(const char *name, std::size_t size, int reps, double target_ns,
         const std::function<void()> &op) {
    if (only != nullptr && std::strcmp(only, name) != 0) return;
    long n = calibrate(op, target_ns);
    for (int rep = 1; rep <= reps; ++rep) {
        double start = cpu_ns();
        for (long i = 0; i < n; ++i) op();
        double ns = (cpu_ns() - start) / n;
        std::printf("colcrypt,%s,%zu,%d,%.1f\n", name, size, rep, ns);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char **argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    const double target_ns = (argc > 2 ? std::atof(argv[2]) : 200) * 1e6;
    only = argc > 3 ? argv[3] : nullptr;

    const core::SecretKey data_key = core::SecretKey::random();
    const core::SecretKey index_key = core::SecretKey::random();
    core::AesGcm aead(data_key);
    core::BlindIndex index(index_key);
    core::HmacSha256 hmac(index_key);
    core::NonceSource nonces;
    // Something every operation writes into, printed at the end so no loop
    // can be optimised away.
    std::uint32_t sink = 0;

    std::uint8_t nonce[core::kNonceSize];
    run("nonce", 0, reps, target_ns, [&] {
        nonces.next(nonce);
        sink += nonce[0];
    });

    for (std::size_t size : {16, 64, 1024}) {
        std::vector<std::uint8_t> plaintext(size, 'x');
        std::vector<std::uint8_t> out(core::sealed_size(kKeyringId, kKeyVersion, kTermSize, size));
        std::vector<std::uint8_t> opened(size);
        std::uint8_t term[core::kMaxTermSize];
        std::uint8_t mac[core::kSha256Size];
        std::uint8_t tag[core::kTagSize];
        std::uint8_t aad[25] = {};

        run("seal_term", size, reps, target_ns, [&] {
            index.term(core::ValueType::text, plaintext.data(), size, kTermSize, term);
            core::seal(aead, nonces, core::ValueType::text, kKeyringId, kKeyVersion, term,
                       kTermSize, plaintext.data(), size, out.data());
            sink += out.back();
        });
        std::vector<std::uint8_t> no_term(core::sealed_size(kKeyringId, kKeyVersion, 0, size));
        run("seal", size, reps, target_ns, [&] {
            core::seal(aead, nonces, core::ValueType::text, kKeyringId, kKeyVersion, nullptr, 0,
                       plaintext.data(), size, no_term.data());
            sink += no_term.back();
        });
        // out holds the last sealed value: open it again and again.
        run("open", size, reps, target_ns, [&] {
            core::Envelope env = core::parse_envelope(out.data(), out.size());
            core::open(aead, core::ValueType::text, env, opened.data());
            sink += opened[0];
        });
        run("term", size, reps, target_ns, [&] {
            index.term(core::ValueType::text, plaintext.data(), size, kTermSize, term);
            sink += term[0];
        });
        run("gcm_encrypt", size, reps, target_ns, [&] {
            aead.encrypt(nonce, aad, sizeof aad, plaintext.data(), size, out.data(), tag);
            sink += tag[0];
        });
        run("hmac", size, reps, target_ns, [&] {
            hmac.compute(plaintext.data(), size, mac);
            sink += mac[0];
        });
    }
    // Comparisons read a stored term through peek_term's fixed offsets; the
    // versions a keyring transfer's target makes take five varint bytes
    // (docs/design/keyring-transfer.md).  parse_envelope is the general path.
    for (std::uint32_t version : {kKeyVersion, 2145386496u}) {
        std::vector<std::uint8_t> plaintext(64, 'x');
        std::vector<std::uint8_t> sealed(core::sealed_size(kKeyringId, version, kTermSize, plaintext.size()));
        std::uint8_t term[core::kMaxTermSize];
        index.term(core::ValueType::text, plaintext.data(), plaintext.size(), kTermSize, term);
        core::seal(aead, nonces, core::ValueType::text, kKeyringId, version, term, kTermSize, plaintext.data(),
                   plaintext.size(), sealed.data());
        const bool long_version = version != kKeyVersion;
        run(long_version ? "peek_term_v5byte" : "peek_term", sealed.size(), reps, target_ns, [&] {
            core::TermView view{};
            sink += core::peek_term(sealed.data(), sealed.size(), &view) ? view.term[0] : 1;
        });
        run(long_version ? "parse_envelope_v5byte" : "parse_envelope", sealed.size(), reps, target_ns, [&] {
            core::Envelope env = core::parse_envelope(sealed.data(), sealed.size());
            sink += env.term[0];
        });
    }
    std::fprintf(stderr, "core_bench: done (%u)\n", sink);
    return 0;
}
