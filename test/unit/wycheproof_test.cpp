// Wycheproof test vectors for the three primitives, run through the public
// core API.  The vector files are required: a missing file is a failure, not
// a skip, so CI cannot go green without having checked them.
//
// Coverage decisions (every skipped vector is counted with its reason):
//   - AES-GCM: 256-bit keys only (the only size colcrypt uses); tag sizes
//     96..128 bits; every IV size OpenSSL accepts (1..1024 bits).  A 0-bit IV
//     is "invalid" in Wycheproof and AesGcm must refuse it, so those run too.
//   - HMAC-SHA256: every group.  Truncated-tag groups compare the leading
//     tagSize/8 bytes of the full MAC, which is how HMAC truncation is defined
//     (RFC 2104, section 5).
//   - HKDF-SHA256: every vector; "invalid" ones (output too long) must throw.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/error.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::Error;
using nlohmann::json;

// Load one vector file from COLCRYPT_VECTORS_DIR (set by CMake).
json load_vectors(const std::string &name) {
    const std::string path = std::string(COLCRYPT_VECTORS_DIR) + "/" + name;
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open Wycheproof vector file " + path +
                                 " (set -DCOLCRYPT_VECTORS_DIR=...)");
    }
    return json::parse(in);
}

// Per-file tally, printed as one line and then asserted on.
struct Tally {
    int passed = 0;
    int failed = 0;
    std::map<std::string, int> skipped;  // reason -> count

    void skip(const std::string &reason, int count) { skipped[reason] += count; }

    void check(bool ok, const std::string &file, const json &test) {
        if (ok) {
            ++passed;
        } else {
            ++failed;
            ADD_FAILURE() << file << " tcId " << test.at("tcId").get<int>() << " ("
                          << test.at("comment").get<std::string>() << "): result "
                          << test.at("result").get<std::string>() << " not honoured";
        }
    }

    void report(const std::string &name) const {
        int total_skipped = 0;
        std::string reasons;
        for (const auto &[reason, count] : skipped) {
            total_skipped += count;
            reasons += (reasons.empty() ? "" : ", ") + reason + ": " + std::to_string(count);
        }
        std::printf("wycheproof %s: %d passed, %d failed, %d skipped%s\n", name.c_str(), passed,
                    failed, total_skipped, reasons.empty() ? "" : (" (" + reasons + ")").c_str());
        std::fflush(stdout);
        EXPECT_EQ(failed, 0);
        EXPECT_GT(passed, 0);
    }
};

Bytes field(const json &test, const char *name) {
    return from_hex(test.at(name).get<std::string>());
}

// Valid: encryption reproduces ct||tag and decryption returns msg.
// Invalid: decryption fails (false or Error).  Acceptable: either.
bool run_aes_gcm(const json &test, std::size_t tag_bytes) {
    const Bytes key = field(test, "key"), iv = field(test, "iv"), aad = field(test, "aad"),
                msg = field(test, "msg"), ct = field(test, "ct"), tag = field(test, "tag");
    const std::string result = test.at("result");
    core::AesGcm gcm{core::SecretKey(key.data())};

    bool decrypted = false;
    Bytes plaintext(ct.size());
    try {
        decrypted = tag.size() == tag_bytes &&
                    gcm.decrypt(iv.data(), iv.size(), aad.data(), aad.size(), ct.data(),
                                ct.size(), tag.data(), tag.size(), plaintext.data());
    } catch (const Error &) {
        decrypted = false;
    }
    if (result == "invalid") {
        return !decrypted;
    }
    const bool decrypt_ok = decrypted && plaintext == msg;
    if (result == "acceptable") {
        return true;
    }
    Bytes ciphertext(msg.size()), computed_tag(tag_bytes);
    gcm.encrypt(iv.data(), iv.size(), aad.data(), aad.size(), msg.data(), msg.size(),
                ciphertext.data(), computed_tag.data(), tag_bytes);
    return decrypt_ok && ciphertext == ct && computed_tag == tag;
}

TEST(Wycheproof, AesGcm256MatchesAllApplicableVectors) {
    const json doc = load_vectors("aes_gcm_test.json");
    Tally tally;
    for (const json &group : doc.at("testGroups")) {
        const int key_bits = group.at("keySize"), iv_bits = group.at("ivSize"),
                  tag_bits = group.at("tagSize");
        const int count = static_cast<int>(group.at("tests").size());
        if (key_bits != 256) {
            tally.skip("key size " + std::to_string(key_bits), count);
        } else if (tag_bits < 96 || tag_bits > 128) {
            tally.skip("tag size " + std::to_string(tag_bits), count);
        } else if (iv_bits > 1024) {
            tally.skip("iv size " + std::to_string(iv_bits) + " above OpenSSL's 1024", count);
        } else {
            for (const json &test : group.at("tests")) {
                tally.check(run_aes_gcm(test, static_cast<std::size_t>(tag_bits / 8)),
                            "aes_gcm", test);
            }
        }
    }
    tally.report("aes_gcm");
}

// Valid: the leading tagSize/8 bytes of the MAC equal the tag.  Invalid: they differ.
bool run_hmac(const json &test, std::size_t tag_bytes) {
    const Bytes key = field(test, "key"), msg = field(test, "msg"), tag = field(test, "tag");
    const std::string result = test.at("result");
    core::HmacSha256 hmac(key.data(), key.size());
    std::uint8_t mac[core::kSha256Size];
    hmac.compute(msg.data(), msg.size(), mac);
    const bool match = tag.size() == tag_bytes && core::constant_time_equal(mac, tag.data(), tag_bytes);
    return result == "acceptable" || match == (result == "valid");
}

TEST(Wycheproof, HmacSha256MatchesAllVectors) {
    const json doc = load_vectors("hmac_sha256_test.json");
    Tally tally;
    for (const json &group : doc.at("testGroups")) {
        const int tag_bits = group.at("tagSize");
        for (const json &test : group.at("tests")) {
            tally.check(run_hmac(test, static_cast<std::size_t>(tag_bits / 8)), "hmac_sha256",
                        test);
        }
    }
    tally.report("hmac_sha256");
}

// Valid: the output equals okm.  Invalid: hkdf_sha256 throws.
bool run_hkdf(const json &test) {
    const Bytes ikm = field(test, "ikm"), salt = field(test, "salt"), info = field(test, "info"),
                okm = field(test, "okm");
    const std::string result = test.at("result");
    const std::size_t size = test.at("size");
    Bytes out(size);
    try {
        core::hkdf_sha256(ikm.data(), ikm.size(), salt.data(), salt.size(), info.data(),
                          info.size(), out.data(), out.size());
    } catch (const Error &) {
        return result != "valid";
    }
    return result == "acceptable" || (result == "valid" && out == okm);
}

TEST(Wycheproof, HkdfSha256MatchesAllVectors) {
    const json doc = load_vectors("hkdf_sha256_test.json");
    Tally tally;
    for (const json &group : doc.at("testGroups")) {
        for (const json &test : group.at("tests")) {
            tally.check(run_hkdf(test), "hkdf_sha256", test);
        }
    }
    tally.report("hkdf_sha256");
}

}  // namespace
}  // namespace colcrypt::test
