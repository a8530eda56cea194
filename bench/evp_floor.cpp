// The crypto floor: what the OpenSSL operations colcrypt makes per value cost
// on their own, through EVP with contexts set up once and reused, as tight as
// a loop can call them.  No colcrypt code: bench/run.sh adds these figures to
// a plain table's (values as long as the envelopes) to make the "crypto
// floor" that colcrypt's loads and reads are compared with.
//
//   evp_floor <operation> <plaintext bytes> <aad bytes> <milliseconds> [iterations]
//
// operations, per value:
//   seal_term  HMAC-SHA256 over a type byte and the plaintext (a blind-index
//              term), then an AES-256-GCM seal (12-byte nonce, AAD, 16-byte tag)
//   seal       the AES-256-GCM seal alone (a keyring without terms)
//   open       an AES-256-GCM open with tag check (a read)
// Prints the nanoseconds per value: wall-clock time, as psql's \timing
// measures the statements the floor is compared with (on a loaded machine
// both include the time the process waits for a core); the median of five
// rounds, so that a round disturbed by another process does not move it.  With
// an iteration count, runs exactly that many and prints nothing (for
// counting instructions under callgrind, bench/value_instructions.sh).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "evp_floor: %s\n", what);
    std::exit(1);
}

double wall_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// The GCM tag as the context's AEAD tag parameter, as colcrypt reads and
// writes it (src/core/crypto.cpp): the cheapest public EVP way on OpenSSL 3.
bool tag_param(EVP_CIPHER_CTX *ctx, std::uint8_t *tag, bool set) {
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
                           OSSL_PARAM_construct_end()};
    return (set ? EVP_CIPHER_CTX_set_params(ctx, params) : EVP_CIPHER_CTX_get_params(ctx, params)) == 1;
}

const std::uint8_t key[32] = {1, 2, 3};  // AES and HMAC key: its value does not change the cost

struct Floor {
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX *dec = EVP_CIPHER_CTX_new();
    // HMAC-SHA256 the cheapest way EVP allows for many short messages under
    // one key (RFC 2104 on digests): the keyed inner and outer states are
    // hashed once, and each message starts from copies of them.
    EVP_MD_CTX *inner = EVP_MD_CTX_new(), *outer = EVP_MD_CTX_new(), *work = EVP_MD_CTX_new();
    std::vector<std::uint8_t> plaintext, aad, out, tag = std::vector<std::uint8_t>(16);
    std::uint8_t nonce[12] = {};
    std::uint8_t term[32];
    std::uint64_t counter = 0;

    Floor(std::size_t size, std::size_t aad_size) : plaintext(size, 'x'), aad(aad_size, 7), out(size + 16) {
        if (enc == nullptr || dec == nullptr ||
            EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), nullptr, key, nullptr) != 1 ||
            EVP_DecryptInit_ex(dec, EVP_aes_256_gcm(), nullptr, key, nullptr) != 1)
            die("AES-GCM setup failed");
        std::uint8_t ipad[64], opad[64];
        for (int i = 0; i < 64; ++i) {
            std::uint8_t k = i < 32 ? key[i] : 0;
            ipad[i] = k ^ 0x36;
            opad[i] = k ^ 0x5c;
        }
        if (inner == nullptr || outer == nullptr || work == nullptr ||
            EVP_DigestInit_ex2(inner, EVP_sha256(), nullptr) != 1 || EVP_DigestUpdate(inner, ipad, 64) != 1 ||
            EVP_DigestInit_ex2(outer, EVP_sha256(), nullptr) != 1 || EVP_DigestUpdate(outer, opad, 64) != 1)
            die("HMAC setup failed");
    }

    // The term above must be HMAC-SHA256 of the type byte and plaintext, or
    // the floor would time something cheaper than colcrypt's work.
    void check_hmac() {
        std::vector<std::uint8_t> message(1, 1);
        message.insert(message.end(), plaintext.begin(), plaintext.end());
        std::uint8_t expected[32];
        unsigned int written = 0;
        hmac();
        if (HMAC(EVP_sha256(), key, sizeof key, message.data(), message.size(), expected, &written) == nullptr ||
            written != 32 || std::memcmp(expected, term, 32) != 0)
            die("HMAC differs from OpenSSL's");
    }

    void hmac() {
        static const std::uint8_t type_byte = 1;
        std::uint8_t inner_digest[32];
        unsigned int written;
        if (EVP_MD_CTX_copy_ex(work, inner) != 1 || EVP_DigestUpdate(work, &type_byte, 1) != 1 ||
            EVP_DigestUpdate(work, plaintext.data(), plaintext.size()) != 1 ||
            EVP_DigestFinal_ex(work, inner_digest, &written) != 1 || EVP_MD_CTX_copy_ex(work, outer) != 1 ||
            EVP_DigestUpdate(work, inner_digest, sizeof inner_digest) != 1 ||
            EVP_DigestFinal_ex(work, term, &written) != 1)
            die("HMAC failed");
    }

    void seal() {
        ++counter;  // a fresh nonce per value, as colcrypt's are
        std::memcpy(nonce, &counter, sizeof counter);
        int n;
        if (EVP_EncryptInit_ex(enc, nullptr, nullptr, nullptr, nonce) != 1 ||
            EVP_EncryptUpdate(enc, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
            EVP_EncryptUpdate(enc, out.data(), &n, plaintext.data(), static_cast<int>(plaintext.size())) != 1 ||
            EVP_EncryptFinal_ex(enc, out.data() + plaintext.size(), &n) != 1 ||
            !tag_param(enc, tag.data(), false))
            die("AES-GCM seal failed");
    }

    // Opens what the last seal made (same nonce), checking the tag.
    void open() {
        int n;
        std::uint8_t *opened = plaintext.data();
        if (EVP_DecryptInit_ex(dec, nullptr, nullptr, nullptr, nonce) != 1 ||
            !tag_param(dec, tag.data(), true) ||
            EVP_DecryptUpdate(dec, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
            EVP_DecryptUpdate(dec, opened, &n, out.data(), static_cast<int>(plaintext.size())) != 1 ||
            EVP_DecryptFinal_ex(dec, opened + plaintext.size(), &n) != 1)
            die("AES-GCM open failed");
    }
};

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5)
        die("usage: evp_floor seal_term|seal|open <plaintext bytes> <aad bytes> <milliseconds> [iterations]");
    const char *operation = argv[1];
    Floor loop(std::strtoul(argv[2], nullptr, 10), std::strtoul(argv[3], nullptr, 10));
    void (*step)(Floor &);
    if (std::strcmp(operation, "seal_term") == 0) {
        loop.check_hmac();
        step = [](Floor &f) { f.hmac(); f.seal(); };
    }
    else if (std::strcmp(operation, "seal") == 0)
        step = [](Floor &f) { f.seal(); };
    else if (std::strcmp(operation, "open") == 0) {
        loop.seal();
        step = [](Floor &f) { f.open(); };
    } else
        die("unknown operation");

    if (argc > 5) {
        for (long i = std::atol(argv[5]); i > 0; --i) step(loop);
        return 0;
    }
    // Five rounds of a fifth of the time each.
    const double round_ns = std::atof(argv[4]) * 1e6 / 5;
    long n = 1;
    double elapsed = 0;
    for (;;) {  // double the count until the loop takes an eighth of a round
        double start = wall_ns();
        for (long i = 0; i < n; ++i) step(loop);
        elapsed = wall_ns() - start;
        if (elapsed > round_ns / 8) break;
        n *= 2;
    }
    n = static_cast<long>(n * round_ns / elapsed) + 1;
    double rounds[5];
    for (double &r : rounds) {
        double start = wall_ns();
        for (long i = 0; i < n; ++i) step(loop);
        r = (wall_ns() - start) / n;
    }
    std::sort(rounds, rounds + 5);
    std::printf("%.1f\n", rounds[2]);
    return 0;
}
