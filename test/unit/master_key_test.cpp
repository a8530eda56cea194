// Master key text, derivation, fingerprint, and key wrapping.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <string>

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/master_key.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::KeyPurpose;
using core::MasterKey;
using core::SecretKey;

// 32 bytes 00 01 .. 1f in the three accepted spellings.
const std::string kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string kBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

std::string key_hex(const SecretKey &key) { return to_hex(key.data(), key.size()); }

SecretKey parse(const std::string &text) { return core::parse_master_key(text.data(), text.size()); }

std::string upper(std::string s) {
    for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

void expect_key_error(const std::string &text, const char *message) {
    try {
        parse(text);
        ADD_FAILURE() << "accepted: " << text;
    } catch (const core::Error &e) {
        EXPECT_EQ(e.code(), core::Errc::invalid_key_material) << text;
        EXPECT_STREQ(e.what(), message) << text;
    }
}

TEST(ParseMasterKey, AcceptsHexOfEitherCaseAndBase64) {
    EXPECT_EQ(key_hex(parse(kHex)), kHex);
    EXPECT_EQ(key_hex(parse(upper(kHex))), kHex);
    EXPECT_EQ(key_hex(parse(kBase64)), kHex);
}

TEST(ParseMasterKey, TrimsSurroundingAsciiWhitespace) {
    EXPECT_EQ(key_hex(parse("  \t" + kHex + "\n")), kHex);
    EXPECT_EQ(key_hex(parse("\r\n" + kBase64 + " \v\f")), kHex);
}

TEST(ParseMasterKey, ReportsEachDefectWithItsOwnMessage) {
    const char *empty = "master key is empty";
    const char *length =
        "master key has the wrong length: expected 64 hex digits or 44 base64 characters";
    const char *encoding = "master key is neither hex nor base64";

    expect_key_error("", empty);
    expect_key_error(" \t\r\n ", empty);
    EXPECT_CORE_ERROR(core::parse_master_key(nullptr, 0), invalid_key_material);

    expect_key_error(kHex.substr(1), length);
    expect_key_error(kHex + "0", length);
    expect_key_error(kBase64.substr(1), length);
    expect_key_error(kHex + kHex, length);

    expect_key_error("g" + kHex.substr(1), encoding);                     // non-hex digit
    expect_key_error(kHex.substr(0, 30) + " " + kHex.substr(31), encoding);  // inner space
    expect_key_error(kBase64.substr(0, 43) + "A", encoding);              // no padding
    expect_key_error(kBase64.substr(0, 42) + "==", encoding);             // two '='
    expect_key_error("*" + kBase64.substr(1), encoding);                  // bad character
    expect_key_error(kBase64.substr(0, 20) + " " + kBase64.substr(21), encoding);
    expect_key_error(kBase64.substr(0, 42) + "9=", encoding);             // unused bits set
}

TEST(ParseMasterKey, MessagesNeverContainTheKeyText) {
    try {
        parse("zz" + kHex.substr(2));
        FAIL();
    } catch (const core::Error &e) {
        EXPECT_EQ(std::string(e.what()).find(kHex.substr(2, 16)), std::string::npos);
    }
}

TEST(FormatMasterKey, WritesLowercaseHexLineThatParsesBack) {
    const SecretKey key = SecretKey::random();
    const std::string text = core::format_master_key(key);
    ASSERT_EQ(text.size(), 65u);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.substr(0, 64), key_hex(key));
    EXPECT_EQ(key_hex(parse(text)), key_hex(key));
}

TEST(MasterKeyFingerprint, IsSixteenHexDigitsStableDistinctAndNotTheKey) {
    const SecretKey a = parse(kHex), b = SecretKey::random();
    const std::string fa = MasterKey(a).fingerprint();
    ASSERT_EQ(fa.size(), core::kFingerprintHexSize);
    for (char c : fa) {
        EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c)) << fa;
    }
    EXPECT_EQ(std::string(MasterKey(a).fingerprint()), fa);
    EXPECT_NE(std::string(MasterKey(b).fingerprint()), fa);
    for (std::size_t i = 0; i + fa.size() <= kHex.size(); ++i) {
        EXPECT_NE(kHex.substr(i, fa.size()), fa);
    }
}

class WrapTest : public ::testing::Test {
protected:
    MasterKey master_{SecretKey::random()};
    SecretKey data_key_ = SecretKey::random();
    std::uint8_t wrapped_[core::kWrappedKeySize];

    void SetUp() override { master_.wrap(7, KeyPurpose::data, 3, data_key_, wrapped_); }
};

TEST_F(WrapTest, UnwrapReturnsTheWrappedKey) {
    EXPECT_EQ(wrapped_[0], core::kWrapFormatVersion);
    const SecretKey back = master_.unwrap(7, KeyPurpose::data, 3, wrapped_, sizeof wrapped_);
    EXPECT_EQ(key_hex(back), key_hex(data_key_));

    // Wrapping again uses a new nonce, so the bytes differ but unwrap agrees.
    std::uint8_t again[core::kWrappedKeySize];
    master_.wrap(7, KeyPurpose::data, 3, data_key_, again);
    EXPECT_NE(std::memcmp(again, wrapped_, sizeof again), 0);
    EXPECT_EQ(key_hex(master_.unwrap(7, KeyPurpose::data, 3, again, sizeof again)),
              key_hex(data_key_));
}

TEST_F(WrapTest, UnwrapRefusesAnotherMasterKey) {
    MasterKey other{SecretKey::random()};
    EXPECT_CORE_ERROR(other.unwrap(7, KeyPurpose::data, 3, wrapped_, sizeof wrapped_),
                      authentication_failed);
}

TEST_F(WrapTest, UnwrapRefusesAnotherSlot) {
    EXPECT_CORE_ERROR(master_.unwrap(8, KeyPurpose::data, 3, wrapped_, sizeof wrapped_),
                      authentication_failed);
    EXPECT_CORE_ERROR(master_.unwrap(7, KeyPurpose::index, 3, wrapped_, sizeof wrapped_),
                      authentication_failed);
    EXPECT_CORE_ERROR(master_.unwrap(7, KeyPurpose::data, 4, wrapped_, sizeof wrapped_),
                      authentication_failed);
    // Keyring and version swapped: the fixed-width AAD keeps them apart.
    EXPECT_CORE_ERROR(master_.unwrap(3, KeyPurpose::data, 7, wrapped_, sizeof wrapped_),
                      authentication_failed);
}

TEST_F(WrapTest, UnwrapRefusesEveryFlippedByte) {
    for (std::size_t i = 0; i < sizeof wrapped_; ++i) {
        std::uint8_t tampered[core::kWrappedKeySize];
        std::memcpy(tampered, wrapped_, sizeof tampered);
        tampered[i] ^= 0x01;
        try {
            master_.unwrap(7, KeyPurpose::data, 3, tampered, sizeof tampered);
            ADD_FAILURE() << "byte " << i << " flipped and still unwrapped";
        } catch (const core::Error &e) {
            // Byte 0 is the format byte; the rest is authenticated.
            EXPECT_EQ(e.code(), i == 0 ? core::Errc::malformed_value
                                       : core::Errc::authentication_failed)
                << i;
        }
    }
}

TEST_F(WrapTest, UnwrapRefusesWrongSizes) {
    std::uint8_t longer[core::kWrappedKeySize + 1] = {};
    std::memcpy(longer, wrapped_, sizeof wrapped_);
    EXPECT_CORE_ERROR(master_.unwrap(7, KeyPurpose::data, 3, wrapped_, sizeof wrapped_ - 1),
                      malformed_value);
    EXPECT_CORE_ERROR(master_.unwrap(7, KeyPurpose::data, 3, longer, sizeof longer),
                      malformed_value);
    EXPECT_CORE_ERROR(master_.unwrap(7, KeyPurpose::data, 3, wrapped_, 0), malformed_value);
}

// A transit key is a function of the master key and the epoch: the same
// pair gives the same key in any process, another master key or another
// epoch does not.
TEST(MasterKeyTransit, IsDeterministicPerMasterKeyAndEpoch) {
    const SecretKey secret = SecretKey::random();
    MasterKey a(secret), b(secret), c{SecretKey::random()};
    const std::string key_a = to_hex(a.transit_key(7).data(), core::kKeySize);
    EXPECT_EQ(key_a, to_hex(b.transit_key(7).data(), core::kKeySize));
    EXPECT_NE(key_a, to_hex(c.transit_key(7).data(), core::kKeySize));
    EXPECT_NE(key_a, to_hex(a.transit_key(8).data(), core::kKeySize));
    EXPECT_NE(key_a, to_hex(a.transit_key(7u << 24).data(), core::kKeySize));

    core::AesGcm sealer(a.transit_key(7)), opener(b.transit_key(7)), other(a.transit_key(8));
    const std::uint8_t nonce[core::kNonceSize] = {1};
    const Bytes plaintext = from_string("transit");
    Bytes ciphertext(plaintext.size()), tag(core::kTagSize), out(plaintext.size());
    sealer.encrypt(nonce, nullptr, 0, plaintext.data(), plaintext.size(), ciphertext.data(), tag.data());
    EXPECT_TRUE(opener.decrypt(nonce, nullptr, 0, ciphertext.data(), ciphertext.size(), tag.data(), out.data()));
    EXPECT_EQ(out, plaintext);
    EXPECT_FALSE(other.decrypt(nonce, nullptr, 0, ciphertext.data(), ciphertext.size(), tag.data(), out.data()));
}

}  // namespace
}  // namespace colcrypt::test
