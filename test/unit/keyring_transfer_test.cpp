// Keyring transfer: X25519, recipient texts, bundles, version ranges.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/keyring_transfer.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/core/version_range.hpp"
#include "colcrypt/core/x25519.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::SecretKey;

SecretKey key_from_hex(const std::string &hex) {
    Bytes bytes = from_hex(hex);
    return SecretKey(bytes.data());
}

// RFC 7748, section 6.1.
const char kAlicePrivate[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const char kAlicePublic[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const char kBobPrivate[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const char kShared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(X25519, Rfc7748Vectors) {
    std::uint8_t pub[core::kX25519KeySize];
    core::x25519_public_key(key_from_hex(kAlicePrivate), pub);
    EXPECT_EQ(to_hex(pub, sizeof pub), kAlicePublic);
    core::x25519_public_key(key_from_hex(kBobPrivate), pub);
    EXPECT_EQ(to_hex(pub, sizeof pub), kBobPublic);
    Bytes bob_public = from_hex(kBobPublic);
    Bytes alice_public = from_hex(kAlicePublic);
    SecretKey ab = core::x25519_shared_secret(key_from_hex(kAlicePrivate), bob_public.data());
    SecretKey ba = core::x25519_shared_secret(key_from_hex(kBobPrivate), alice_public.data());
    EXPECT_EQ(to_hex(ab.data(), ab.size()), kShared);
    EXPECT_EQ(to_hex(ba.data(), ba.size()), kShared);
}

TEST(X25519, GeneratedPairsAgree) {
    core::X25519KeyPair a = core::x25519_generate();
    core::X25519KeyPair b = core::x25519_generate();
    std::uint8_t pub[core::kX25519KeySize];
    core::x25519_public_key(a.private_key, pub);
    EXPECT_EQ(0, std::memcmp(pub, a.public_key, sizeof pub));
    SecretKey ab = core::x25519_shared_secret(a.private_key, b.public_key);
    SecretKey ba = core::x25519_shared_secret(b.private_key, a.public_key);
    EXPECT_TRUE(core::constant_time_equal(ab.data(), ba.data(), ab.size()));
    EXPECT_NE(0, std::memcmp(a.public_key, b.public_key, sizeof pub));
}

TEST(X25519, SmallOrderPublicKeyIsRefused) {
    std::uint8_t zero[core::kX25519KeySize] = {};
    core::X25519KeyPair a = core::x25519_generate();
    try {
        core::x25519_shared_secret(a.private_key, zero);
        ADD_FAILURE() << "the all-zero public key was accepted";
    } catch (const core::Error &e) {
        EXPECT_EQ(e.code(), core::Errc::invalid_argument);
    }
}

struct Request {
    core::X25519KeyPair pair = core::x25519_generate();
    core::Recipient recipient;
    Request() {
        core::random_bytes(recipient.transfer_id, sizeof recipient.transfer_id);
        std::memcpy(recipient.public_key, pair.public_key, sizeof recipient.public_key);
        recipient.token = core::transfer_token(pair.private_key);
    }
};

core::KeyringPayload sample_payload() {
    core::KeyringPayload payload;
    for (std::size_t i = 0; i < sizeof payload.uuid; ++i) payload.uuid[i] = static_cast<std::uint8_t>(i + 1);
    payload.keyring_id = 7;
    payload.name = "pii";
    payload.term_bits = 64;
    payload.case_insensitive = true;
    payload.index_order = 2;
    payload.recipient_range = {2145386496, 2147483647};
    std::strcpy(payload.source_fingerprint, "0123456789abcdef");
    payload.index_key = {1, SecretKey::random()};
    payload.data_keys.push_back({1, SecretKey::random()});
    payload.data_keys.push_back({3, SecretKey::random()});
    return payload;
}

bool same_key(const SecretKey &a, const SecretKey &b) { return core::constant_time_equal(a.data(), b.data(), a.size()); }

TEST(KeyringTransfer, RecipientTextRoundTrips) {
    Request request;
    std::string text = core::format_recipient(request.recipient);
    EXPECT_EQ(text.rfind("colcrypt-transfer:", 0), 0u);
    core::Recipient parsed = core::parse_recipient(text.data(), text.size());
    EXPECT_EQ(0, std::memcmp(parsed.transfer_id, request.recipient.transfer_id, core::kTransferIdSize));
    EXPECT_EQ(0, std::memcmp(parsed.public_key, request.recipient.public_key, core::kX25519KeySize));
    EXPECT_TRUE(same_key(parsed.token, request.recipient.token));
    for (std::string bad : {std::string(), text.substr(1), text + "A", "colcrypt-transfer:" + std::string(88, '*')}) {
        try {
            core::parse_recipient(bad.data(), bad.size());
            ADD_FAILURE() << "accepted " << bad;
        } catch (const core::Error &e) {
            EXPECT_EQ(e.code(), core::Errc::malformed_value);
        }
    }
}

TEST(KeyringTransfer, TokenIsDerivedFromThePrivateKeyOnly) {
    Request a, b;
    EXPECT_TRUE(same_key(core::transfer_token(a.pair.private_key), a.recipient.token));
    EXPECT_FALSE(same_key(a.recipient.token, b.recipient.token));
    EXPECT_FALSE(same_key(a.recipient.token, a.pair.private_key));
}

TEST(KeyringTransfer, BundleRoundTrips) {
    Request request;
    core::KeyringPayload payload = sample_payload();
    std::vector<std::uint8_t> bundle = core::seal_bundle(request.recipient, payload);
    std::uint8_t id[core::kTransferIdSize];
    core::bundle_transfer_id(bundle.data(), bundle.size(), id);
    EXPECT_EQ(0, std::memcmp(id, request.recipient.transfer_id, sizeof id));

    core::KeyringPayload opened = core::open_bundle(bundle.data(), bundle.size(), request.pair.private_key);
    EXPECT_EQ(0, std::memcmp(opened.uuid, payload.uuid, sizeof payload.uuid));
    EXPECT_EQ(opened.keyring_id, 7u);
    EXPECT_EQ(opened.name, "pii");
    EXPECT_EQ(opened.term_bits, 64);
    EXPECT_TRUE(opened.case_insensitive);
    EXPECT_EQ(opened.index_order, 2);
    EXPECT_EQ(opened.recipient_range.start, 2145386496);
    EXPECT_EQ(opened.recipient_range.end, 2147483647);
    EXPECT_STREQ(opened.source_fingerprint, "0123456789abcdef");
    EXPECT_EQ(opened.index_key.version, 1u);
    EXPECT_TRUE(same_key(opened.index_key.key, payload.index_key.key));
    ASSERT_EQ(opened.data_keys.size(), 2u);
    EXPECT_EQ(opened.data_keys[1].version, 3u);
    EXPECT_TRUE(same_key(opened.data_keys[0].key, payload.data_keys[0].key));
    EXPECT_TRUE(same_key(opened.data_keys[1].key, payload.data_keys[1].key));
}

TEST(KeyringTransfer, SettingsRoundTripEitherWay) {
    Request request;
    for (bool case_insensitive : {false, true}) {
        core::KeyringPayload payload = sample_payload();
        payload.case_insensitive = case_insensitive;
        payload.term_bits = case_insensitive ? 0 : 256;
        payload.index_order = case_insensitive ? 1 : 2;
        std::vector<std::uint8_t> bundle = core::seal_bundle(request.recipient, payload);
        core::KeyringPayload opened = core::open_bundle(bundle.data(), bundle.size(), request.pair.private_key);
        EXPECT_EQ(opened.case_insensitive, case_insensitive);
        EXPECT_EQ(opened.term_bits, payload.term_bits);
        EXPECT_EQ(opened.index_order, payload.index_order);
    }
}

TEST(KeyringTransfer, BundleHoldsNoKeyInTheClear) {
    Request request;
    core::KeyringPayload payload = sample_payload();
    std::vector<std::uint8_t> bundle = core::seal_bundle(request.recipient, payload);
    std::string haystack(bundle.begin(), bundle.end());
    for (const SecretKey *key : {&payload.index_key.key, &payload.data_keys[0].key, &payload.data_keys[1].key,
                                 &request.recipient.token}) {
        // Any 8 bytes of a key would be a leak.
        std::string piece(reinterpret_cast<const char *>(key->data()), 8);
        EXPECT_EQ(haystack.find(piece), std::string::npos);
    }
    EXPECT_EQ(haystack.find("pii"), std::string::npos) << "the keyring name is encrypted too";
}

void expect_bundle_error(const std::vector<std::uint8_t> &bundle, const SecretKey &private_key, core::Errc code) {
    try {
        core::open_bundle(bundle.data(), bundle.size(), private_key);
        ADD_FAILURE() << "a bad bundle opened";
    } catch (const core::Error &e) {
        EXPECT_EQ(e.code(), code) << e.what();
    }
}

TEST(KeyringTransfer, EveryChangedByteIsRefused) {
    Request request;
    std::vector<std::uint8_t> bundle = core::seal_bundle(request.recipient, sample_payload());
    // Byte 4 is the format (unsupported); every other byte fails authentication
    // or, in the magic, is not a bundle at all.
    for (std::size_t i = 0; i < bundle.size(); ++i) {
        std::vector<std::uint8_t> tampered = bundle;
        tampered[i] ^= 0x01;
        core::Errc expected = i < 4 ? core::Errc::malformed_value
                              : i == 4 ? core::Errc::unsupported_format
                                       : core::Errc::authentication_failed;
        expect_bundle_error(tampered, request.pair.private_key, expected);
    }
    std::vector<std::uint8_t> truncated(bundle.begin(), bundle.end() - 1);
    expect_bundle_error(truncated, request.pair.private_key, core::Errc::authentication_failed);
    std::vector<std::uint8_t> tiny(bundle.begin(), bundle.begin() + 20);
    expect_bundle_error(tiny, request.pair.private_key, core::Errc::malformed_value);
}

TEST(KeyringTransfer, BundleForAnotherRequestIsRefused) {
    Request mine, other;
    std::vector<std::uint8_t> for_other = core::seal_bundle(other.recipient, sample_payload());
    expect_bundle_error(for_other, mine.pair.private_key, core::Errc::authentication_failed);

    // The right public key but another request's token (one the target never
    // handed out): whoever only knows the public key cannot make a bundle.
    core::Recipient forged = mine.recipient;
    forged.token = SecretKey::random();
    expect_bundle_error(core::seal_bundle(forged, sample_payload()), mine.pair.private_key,
                        core::Errc::authentication_failed);

    // The right key and token under another transfer id (copied into the header).
    core::Recipient relabelled = mine.recipient;
    core::random_bytes(relabelled.transfer_id, sizeof relabelled.transfer_id);
    std::vector<std::uint8_t> bundle = core::seal_bundle(relabelled, sample_payload());
    std::memcpy(bundle.data() + 5, mine.recipient.transfer_id, core::kTransferIdSize);
    expect_bundle_error(bundle, mine.pair.private_key, core::Errc::authentication_failed);
}

TEST(KeyringTransfer, InvalidPayloadIsNotSealed) {
    Request request;
    core::KeyringPayload payload = sample_payload();
    payload.name = "Not A Name";
    EXPECT_THROW(core::seal_bundle(request.recipient, payload), core::Error);
}

TEST(MasterKeyTransferWrap, BoundToTransferIdAndNeverADataKey) {
    core::MasterKey master(SecretKey::random());
    core::X25519KeyPair pair = core::x25519_generate();
    std::uint8_t id[core::kTransferIdSize], other_id[core::kTransferIdSize];
    core::random_bytes(id, sizeof id);
    core::random_bytes(other_id, sizeof other_id);
    std::uint8_t wrapped[core::kWrappedKeySize];
    master.wrap_transfer_key(id, pair.private_key, wrapped);
    EXPECT_TRUE(same_key(master.unwrap_transfer_key(id, wrapped, sizeof wrapped), pair.private_key));
    EXPECT_THROW(master.unwrap_transfer_key(other_id, wrapped, sizeof wrapped), core::Error);
    EXPECT_THROW(master.unwrap(0, core::KeyPurpose::data, 1, wrapped, sizeof wrapped), core::Error);
    core::MasterKey other_master(SecretKey::random());
    EXPECT_THROW(other_master.unwrap_transfer_key(id, wrapped, sizeof wrapped), core::Error);
}

TEST(VersionRange, ExportsTakeDisjointBlocksFromTheTop) {
    core::VersionRange source = core::kFullVersionRange;
    auto first = core::reserve_transfer_range(source, 3);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->end, source.end);
    EXPECT_EQ(first->end - first->start, (source.end - source.start) / core::kTransferRangeShare);
    source.end = first->start;
    auto second = core::reserve_transfer_range(source, 3);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->end, first->start);
    EXPECT_GT(second->start, 3);
    // The recipient's own rotations stay in its block; the source's below it.
    EXPECT_EQ(core::next_local_version(*first, 0), first->start);
    EXPECT_EQ(core::next_local_version(*first, 5), first->start) << "versions below the range are the source's";
    EXPECT_EQ(core::next_local_version(*first, first->start), first->start + 1);
    EXPECT_FALSE(core::next_local_version(*first, first->end - 1).has_value());
    EXPECT_EQ(core::next_local_version(core::kFullVersionRange, 0), 1);
    EXPECT_EQ(core::next_local_version(core::kFullVersionRange, 4), 5);
}

TEST(VersionRange, ChainsEndAfterTwoTransfers) {
    core::VersionRange range = core::kFullVersionRange;
    int depth = 0;
    while (auto block = core::reserve_transfer_range(range, 0)) {
        EXPECT_GE(block->end - block->start, core::kMinTransferRange);
        EXPECT_GE(block->start, range.start);
        range = *block;
        ++depth;
    }
    EXPECT_EQ(depth, 2);  // A -> B -> C: 2^31 / 1024 / 1024 leaves blocks of 2047, then too few
}

TEST(VersionRange, RefusedWhenTheBlockHoldsAMadeVersion) {
    core::VersionRange range{1, 2049};
    auto block = core::reserve_transfer_range(range, 1);
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(block->start, 2047);
    EXPECT_EQ(block->end, 2049);
    EXPECT_FALSE(core::reserve_transfer_range(range, 2047).has_value());
    EXPECT_FALSE(core::reserve_transfer_range(core::VersionRange{5, 5}, 0).has_value());
}

}  // namespace
}  // namespace colcrypt::test
