// AES-256-GCM, HMAC-SHA256, HKDF-SHA256 and the secure helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/secure.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::AesGcm;
using core::kNonceSize;
using core::kTagSize;
using core::SecretKey;

SecretKey key_from(unsigned seed) { return SecretKey(pattern(core::kKeySize, seed).data()); }

// Ciphertext and tag of one encryption.
struct Sealed {
    Bytes ciphertext;
    Bytes tag = Bytes(kTagSize);
};

Sealed encrypt(AesGcm &gcm, const Bytes &nonce, const Bytes &aad, const Bytes &plaintext) {
    Sealed s;
    s.ciphertext.resize(plaintext.size());
    gcm.encrypt(nonce.data(), aad.data(), aad.size(), plaintext.data(), plaintext.size(),
                s.ciphertext.data(), s.tag.data());
    return s;
}

TEST(AesGcm, RoundTripsEverySizeFromEmptyToOneMebibyte) {
    const SecretKey key = key_from(1);
    AesGcm gcm(key);
    const Bytes nonce = pattern(kNonceSize, 2), aad = from_string("associated");
    for (std::size_t size : {0u, 1u, 15u, 16u, 17u, 1000u, 1u << 20}) {
        const Bytes plaintext = pattern(size, 3);
        const Sealed s = encrypt(gcm, nonce, aad, plaintext);
        if (size > 0) {
            EXPECT_NE(s.ciphertext, plaintext) << size;
        }
        Bytes decrypted(size);
        ASSERT_TRUE(gcm.decrypt(nonce.data(), aad.data(), aad.size(), s.ciphertext.data(), size,
                                s.tag.data(), decrypted.data()))
            << size;
        EXPECT_EQ(decrypted, plaintext) << size;
    }
}

TEST(AesGcm, EncryptsAndDecryptsInPlace) {
    AesGcm gcm(key_from(4));
    const Bytes nonce = pattern(kNonceSize, 5), aad = from_string("aad");
    const Bytes plaintext = pattern(1000, 6);
    const Sealed expected = encrypt(gcm, nonce, aad, plaintext);

    Bytes buffer = plaintext;
    Bytes tag(kTagSize);
    gcm.encrypt(nonce.data(), aad.data(), aad.size(), buffer.data(), buffer.size(),
                buffer.data(), tag.data());
    EXPECT_EQ(buffer, expected.ciphertext);
    EXPECT_EQ(tag, expected.tag);
    ASSERT_TRUE(gcm.decrypt(nonce.data(), aad.data(), aad.size(), buffer.data(), buffer.size(),
                            tag.data(), buffer.data()));
    EXPECT_EQ(buffer, plaintext);
}

// Every input that the tag covers is altered in turn; each must be refused
// and the output buffer (pre-filled with non-zero bytes) must be wiped.
TEST(AesGcm, WrongTagAadNonceOrCiphertextFailsAndWipesOutput) {
    AesGcm gcm(key_from(7));
    const Bytes nonce = pattern(kNonceSize, 8), aad = from_string("aad"), plaintext = pattern(64, 9);
    const Sealed s = encrypt(gcm, nonce, aad, plaintext);

    auto refused = [&](Bytes n, Bytes a, Bytes c, Bytes t) {
        Bytes out(c.size(), 0xaa);
        const bool ok = gcm.decrypt(n.data(), a.data(), a.size(), c.data(), c.size(), t.data(),
                                    out.data());
        return !ok && all_zero(out);
    };
    Bytes bad_tag = s.tag;
    bad_tag[15] ^= 1;
    Bytes bad_aad = aad;
    bad_aad[0] ^= 1;
    Bytes bad_nonce = nonce;
    bad_nonce[11] ^= 0x80;
    Bytes bad_ciphertext = s.ciphertext;
    bad_ciphertext[30] ^= 4;
    EXPECT_TRUE(refused(nonce, aad, s.ciphertext, bad_tag));
    EXPECT_TRUE(refused(nonce, bad_aad, s.ciphertext, s.tag));
    EXPECT_TRUE(refused(nonce, Bytes(), s.ciphertext, s.tag));
    EXPECT_TRUE(refused(bad_nonce, aad, s.ciphertext, s.tag));
    EXPECT_TRUE(refused(nonce, aad, bad_ciphertext, s.tag));

    AesGcm other(key_from(10));
    Bytes out(plaintext.size(), 0xaa);
    EXPECT_FALSE(other.decrypt(nonce.data(), aad.data(), aad.size(), s.ciphertext.data(),
                               s.ciphertext.size(), s.tag.data(), out.data()));
    EXPECT_TRUE(all_zero(out));
}

// One object is reused for many values (the key schedule is set once) and
// must give exactly what a fresh object gives, including after switching
// nonce sizes and after failed decryptions.
TEST(AesGcm, ReusedObjectMatchesFreshObjectAcrossManyValues) {
    const SecretKey key = key_from(11);
    AesGcm reused(key);
    const std::size_t nonce_sizes[] = {12, 12, 8, 16, 16, 1, 12, 60, 128, 12};
    for (unsigned i = 0; i < 500; ++i) {
        const std::size_t nonce_size = nonce_sizes[i % 10];
        const Bytes nonce = pattern(nonce_size, i), aad = pattern(i % 40, i + 1),
                    plaintext = pattern(i * 7 % 300, i + 2);
        Bytes c1(plaintext.size()), t1(kTagSize), c2(plaintext.size()), t2(kTagSize);
        reused.encrypt(nonce.data(), nonce_size, aad.data(), aad.size(), plaintext.data(),
                       plaintext.size(), c1.data(), t1.data(), kTagSize);
        AesGcm fresh(key);
        fresh.encrypt(nonce.data(), nonce_size, aad.data(), aad.size(), plaintext.data(),
                      plaintext.size(), c2.data(), t2.data(), kTagSize);
        ASSERT_EQ(c1, c2) << i;
        ASSERT_EQ(t1, t2) << i;

        Bytes out(plaintext.size());
        if (i % 3 == 0) {  // interleave a failure: it must not disturb later calls
            Bytes bad = t1;
            bad[0] ^= 1;
            ASSERT_FALSE(reused.decrypt(nonce.data(), nonce_size, aad.data(), aad.size(),
                                        c1.data(), c1.size(), bad.data(), kTagSize, out.data()));
        }
        ASSERT_TRUE(reused.decrypt(nonce.data(), nonce_size, aad.data(), aad.size(), c1.data(),
                                   c1.size(), t1.data(), kTagSize, out.data()))
            << i;
        ASSERT_EQ(out, plaintext) << i;
    }
}

TEST(AesGcm, TruncatedTagsArePrefixesAndVerify) {
    AesGcm gcm(key_from(12));
    const Bytes nonce = pattern(kNonceSize, 13), plaintext = pattern(33, 14);
    const Sealed full = encrypt(gcm, nonce, Bytes(), plaintext);
    for (std::size_t tag_size = 12; tag_size <= 16; ++tag_size) {
        Bytes c(plaintext.size()), t(tag_size), out(plaintext.size());
        gcm.encrypt(nonce.data(), kNonceSize, nullptr, 0, plaintext.data(), plaintext.size(),
                    c.data(), t.data(), tag_size);
        EXPECT_EQ(t, Bytes(full.tag.begin(), full.tag.begin() + tag_size));
        EXPECT_TRUE(gcm.decrypt(nonce.data(), kNonceSize, nullptr, 0, c.data(), c.size(),
                                t.data(), tag_size, out.data()));
    }
}

TEST(AesGcm, RejectsOutOfRangeNonceAndTagSizes) {
    AesGcm gcm(key_from(15));
    std::uint8_t nonce[129] = {}, data[4] = {}, tag[17] = {};
    EXPECT_CORE_ERROR(gcm.encrypt(nonce, 0, nullptr, 0, data, 4, data, tag, 16), invalid_argument);
    EXPECT_CORE_ERROR(gcm.encrypt(nonce, 129, nullptr, 0, data, 4, data, tag, 16), invalid_argument);
    EXPECT_CORE_ERROR(gcm.encrypt(nonce, 12, nullptr, 0, data, 4, data, tag, 11), invalid_argument);
    EXPECT_CORE_ERROR(gcm.encrypt(nonce, 12, nullptr, 0, data, 4, data, tag, 17), invalid_argument);
    EXPECT_CORE_ERROR(gcm.decrypt(nonce, 0, nullptr, 0, data, 4, tag, 16, data), invalid_argument);
    EXPECT_CORE_ERROR(gcm.decrypt(nonce, 12, nullptr, 0, data, 4, tag, 8, data), invalid_argument);
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
    const Bytes key = from_string("Jefe"), msg = from_string("what do ya want for nothing?");
    core::HmacSha256 hmac(key.data(), key.size());
    std::uint8_t mac[core::kSha256Size];
    hmac.compute(msg.data(), msg.size(), mac);
    EXPECT_EQ(to_hex(mac, sizeof mac),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Again on the same object: the keyed state is reused, not consumed.
    hmac.compute(msg.data(), msg.size(), mac);
    EXPECT_EQ(to_hex(mac, sizeof mac),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, TwoPartsEqualTheirConcatenation) {
    core::HmacSha256 hmac(key_from(16));
    const Bytes msg = from_string("what do ya want for nothing?");
    std::uint8_t whole[core::kSha256Size], split[core::kSha256Size], first[core::kSha256Size];
    hmac.compute(msg.data(), msg.size(), whole);
    for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
        hmac.compute(msg.data(), cut, msg.data() + cut, msg.size() - cut, split);
        EXPECT_EQ(to_hex(split, sizeof split), to_hex(whole, sizeof whole)) << cut;
    }
    hmac.compute(msg.data(), 1, first);
    EXPECT_NE(to_hex(first, sizeof first), to_hex(whole, sizeof whole));
}

TEST(HmacSha256, EmptyKeyAndEmptyMessageMatchKnownValue) {
    core::HmacSha256 hmac(nullptr, 0);
    std::uint8_t mac[core::kSha256Size];
    hmac.compute(nullptr, 0, mac);
    EXPECT_EQ(to_hex(mac, sizeof mac),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// A key longer than the block is hashed first (RFC 2104); the pad blocks are
// built from the digest.
TEST(HmacSha256, MatchesRfc4231TestCase6KeyLongerThanBlock) {
    const Bytes key(131, 0xaa);
    const Bytes msg = from_string("Test Using Larger Than Block-Size Key - Hash Key First");
    core::HmacSha256 hmac(key.data(), key.size());
    std::uint8_t mac[core::kSha256Size];
    hmac.compute(msg.data(), msg.size(), mac);
    EXPECT_EQ(to_hex(mac, sizeof mac),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// begin/update/finish in pieces gives the one-call MAC, and either way of
// computing leaves the keyed state for the next message.
TEST(HmacSha256, PiecesEqualOneCallAndAlternate) {
    core::HmacSha256 hmac(key_from(32));
    const Bytes msg = from_string("what do ya want for nothing? and then some more bytes");
    std::uint8_t whole[core::kSha256Size], pieces[core::kSha256Size];
    hmac.compute(msg.data(), msg.size(), whole);
    for (int round = 0; round < 2; ++round) {
        hmac.begin();
        for (std::size_t i = 0; i < msg.size(); i += 7) {
            hmac.update(msg.data() + i, std::min<std::size_t>(7, msg.size() - i));
        }
        hmac.update(nullptr, 0);
        hmac.finish(pieces);
        EXPECT_EQ(to_hex(pieces, sizeof pieces), to_hex(whole, sizeof whole)) << round;
        hmac.compute(msg.data(), msg.size(), whole);
        EXPECT_EQ(to_hex(whole, sizeof whole), to_hex(pieces, sizeof pieces)) << round;
    }
}

TEST(HkdfSha256, MatchesRfc5869TestCase1) {
    const Bytes ikm(22, 0x0b), salt = from_hex("000102030405060708090a0b0c"),
                info = from_hex("f0f1f2f3f4f5f6f7f8f9");
    Bytes okm(42);
    core::hkdf_sha256(ikm.data(), ikm.size(), salt.data(), salt.size(), info.data(), info.size(),
                      okm.data(), okm.size());
    EXPECT_EQ(to_hex(okm),
              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// Empty salt and info take a different path (parameters omitted).
TEST(HkdfSha256, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
    const Bytes ikm(22, 0x0b);
    Bytes okm(42);
    core::hkdf_sha256(ikm.data(), ikm.size(), nullptr, 0, nullptr, 0, okm.data(), okm.size());
    EXPECT_EQ(to_hex(okm),
              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, RejectsOutputSizesOutsideRfcLimits) {
    const Bytes ikm(32, 1);
    Bytes out(255 * 32 + 1);
    EXPECT_CORE_ERROR(core::hkdf_sha256(ikm.data(), ikm.size(), nullptr, 0, nullptr, 0,
                                        out.data(), out.size()),
                      invalid_argument);
    EXPECT_CORE_ERROR(core::hkdf_sha256(ikm.data(), ikm.size(), nullptr, 0, nullptr, 0,
                                        out.data(), 0),
                      invalid_argument);
    EXPECT_NO_THROW(core::hkdf_sha256(ikm.data(), ikm.size(), nullptr, 0, nullptr, 0,
                                      out.data(), 255 * 32));
}

TEST(Secure, ConstantTimeEqualComparesEveryByte) {
    const Bytes a = pattern(32, 1);
    Bytes b = a;
    EXPECT_TRUE(core::constant_time_equal(a.data(), b.data(), a.size()));
    EXPECT_TRUE(core::constant_time_equal(a.data(), b.data(), 0));
    b[0] ^= 1;
    EXPECT_FALSE(core::constant_time_equal(a.data(), b.data(), a.size()));
    b[0] ^= 1;
    b[31] ^= 0x80;
    EXPECT_FALSE(core::constant_time_equal(a.data(), b.data(), a.size()));
    EXPECT_TRUE(core::constant_time_equal(a.data(), b.data(), 31));
}

TEST(Secure, SecureWipeZeroesMemory) {
    Bytes buffer = pattern(100, 3);
    core::secure_wipe(buffer.data(), buffer.size());
    EXPECT_TRUE(all_zero(buffer));
}

TEST(Secure, RandomKeysDifferAndCopiesAreEqual) {
    const SecretKey a = SecretKey::random(), b = SecretKey::random();
    EXPECT_NE(std::memcmp(a.data(), b.data(), SecretKey::size()), 0);
    SecretKey c(a);
    EXPECT_EQ(std::memcmp(a.data(), c.data(), SecretKey::size()), 0);
    c = b;
    EXPECT_EQ(std::memcmp(b.data(), c.data(), SecretKey::size()), 0);
    const SecretKey zero;
    EXPECT_TRUE(all_zero(Bytes(zero.data(), zero.data() + SecretKey::size())));
}

}  // namespace
}  // namespace colcrypt::test
