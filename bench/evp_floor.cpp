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

struct Floor {
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX *dec = EVP_CIPHER_CTX_new();
    EVP_MAC_CTX *mac = nullptr;
    std::vector<std::uint8_t> plaintext, aad, out, tag = std::vector<std::uint8_t>(16);
    std::uint8_t nonce[12] = {};
    std::uint8_t term[32];
    std::uint64_t counter = 0;

    Floor(std::size_t size, std::size_t aad_size) : plaintext(size, 'x'), aad(aad_size, 7), out(size + 16) {
        static const std::uint8_t key[32] = {1, 2, 3};
        if (enc == nullptr || dec == nullptr ||
            EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), nullptr, key, nullptr) != 1 ||
            EVP_DecryptInit_ex(dec, EVP_aes_256_gcm(), nullptr, key, nullptr) != 1)
            die("AES-GCM setup failed");
        EVP_MAC *hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        mac = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
        EVP_MAC_free(hmac);
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                     OSSL_PARAM_construct_end()};
        if (mac == nullptr || EVP_MAC_init(mac, key, sizeof key, params) != 1)
            die("HMAC setup failed");
    }

    void hmac() {
        static const std::uint8_t type_byte = 1;
        std::size_t written;
        if (EVP_MAC_init(mac, nullptr, 0, nullptr) != 1 || EVP_MAC_update(mac, &type_byte, 1) != 1 ||
            EVP_MAC_update(mac, plaintext.data(), plaintext.size()) != 1 ||
            EVP_MAC_final(mac, term, &written, sizeof term) != 1)
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
            EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) != 1)
            die("AES-GCM seal failed");
    }

    // Opens what the last seal made (same nonce), checking the tag.
    void open() {
        int n;
        std::uint8_t *opened = plaintext.data();
        if (EVP_DecryptInit_ex(dec, nullptr, nullptr, nullptr, nonce) != 1 ||
            EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
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
    if (std::strcmp(operation, "seal_term") == 0)
        step = [](Floor &f) { f.hmac(); f.seal(); };
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
