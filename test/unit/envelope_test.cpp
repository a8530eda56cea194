// The stored-value format: layout, sizes, strict parsing, authentication of
// every byte, and the text form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/error.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::Envelope;
using core::ValueType;

constexpr std::uint32_t kIds[] = {1, 127, 128, 16383, 16384, UINT32_MAX};

class EnvelopeTest : public ::testing::Test {
protected:
    core::SecretKey key_ = core::SecretKey::random();
    core::AesGcm aead_{key_};
    core::NonceSource nonces_;

    // Seal into a buffer with a canary tail, check the canary survived (seal
    // writes exactly sealed_size bytes), and return the envelope.
    Bytes seal(ValueType type, std::uint32_t keyring, std::uint32_t version, const Bytes &term,
               const Bytes &plaintext) {
        const std::size_t size = core::sealed_size(keyring, version, term.size(), plaintext.size());
        Bytes out(size + 8, 0xee);
        core::seal(aead_, nonces_, type, keyring, version, term.empty() ? nullptr : term.data(),
                   term.size(), plaintext.data(), plaintext.size(), out.data());
        EXPECT_EQ(Bytes(out.begin() + static_cast<long>(size), out.end()), Bytes(8, 0xee));
        out.resize(size);
        return out;
    }

    // Parse and open; throws what they throw.
    Bytes open(ValueType type, const Bytes &envelope) {
        const Envelope env = core::parse_envelope(envelope.data(), envelope.size());
        Bytes plaintext(env.ciphertext_size, 0xaa);
        core::open(aead_, type, env, plaintext.data());
        return plaintext;
    }
};

TEST_F(EnvelopeTest, RoundTripsSizesTermSizesAndKeyIds) {
    for (std::size_t size : {0u, 1u, 16u, 100u, 5000u}) {
        for (std::size_t term_size : {0u, 1u, 8u, 32u}) {
            for (std::uint32_t keyring : kIds) {
                for (std::uint32_t version : {keyring, 1u}) {
                    const Bytes plaintext = pattern(size, 1), term = pattern(term_size, 2);
                    const Bytes sealed = seal(ValueType::text, keyring, version, term, plaintext);
                    const Envelope env = core::parse_envelope(sealed.data(), sealed.size());
                    EXPECT_EQ(env.format_version, core::kFormatVersion);
                    EXPECT_EQ(env.algorithm, core::kAlgorithmAes256Gcm);
                    EXPECT_EQ(env.keyring_id, keyring);
                    EXPECT_EQ(env.key_version, version);
                    EXPECT_EQ(env.term_size, term_size);
                    EXPECT_EQ(Bytes(env.term, env.term + env.term_size), term);
                    EXPECT_EQ(env.ciphertext_size, size);
                    EXPECT_EQ(env.total_size, sealed.size());
                    EXPECT_EQ(open(ValueType::text, sealed), plaintext);
                }
            }
        }
    }
}

TEST_F(EnvelopeTest, TransitValuesUseKeyringZeroVersionZero) {
    const Bytes plaintext = from_string("in transit");
    const Bytes sealed = seal(ValueType::jsonb, core::kTransitKeyringId, 0, Bytes(), plaintext);
    const Envelope env = core::parse_envelope(sealed.data(), sealed.size());
    EXPECT_EQ(env.keyring_id, 0u);
    EXPECT_EQ(env.key_version, 0u);
    EXPECT_EQ(open(ValueType::jsonb, sealed), plaintext);
}

TEST_F(EnvelopeTest, VarintSizesGrowAtSevenBitBoundaries) {
    const std::size_t base = core::sealed_size(1, 1, 0, 0);
    EXPECT_EQ(base, core::kMinEnvelopeSize);
    EXPECT_EQ(core::sealed_size(127, 1, 0, 0) - base, 0u);
    EXPECT_EQ(core::sealed_size(128, 1, 0, 0) - base, 1u);
    EXPECT_EQ(core::sealed_size(16383, 1, 0, 0) - base, 1u);
    EXPECT_EQ(core::sealed_size(16384, 1, 0, 0) - base, 2u);
    EXPECT_EQ(core::sealed_size(1, UINT32_MAX, 0, 0) - base, 4u);
}

TEST_F(EnvelopeTest, OverheadIsExactly40BytesForSmallIdsAndEightByteTerm) {
    for (std::uint32_t id : {1u, 2u, 127u}) {
        for (std::size_t size : {0u, 1u, 1000u}) {
            EXPECT_EQ(core::sealed_size(id, id, 8, size) - size, 40u);
            EXPECT_EQ(seal(ValueType::text, id, id, pattern(8), pattern(size)).size(), size + 40);
        }
    }
}

// Byte layout as documented in envelope.hpp, including LEB128 of 300 = ac 02.
TEST_F(EnvelopeTest, LayoutMatchesTheDocumentedFormat) {
    const Bytes term = pattern(5, 9), plaintext = from_string("abc");
    const Bytes sealed = seal(ValueType::text, 300, 2, term, plaintext);
    ASSERT_EQ(sealed.size(), 2 + 2 + 1 + 12 + 5 + 3 + 16u);
    EXPECT_EQ(sealed[0], 0x11);
    EXPECT_EQ(sealed[1], 5);
    EXPECT_EQ(sealed[2], 0xac);
    EXPECT_EQ(sealed[3], 0x02);
    EXPECT_EQ(sealed[4], 0x02);
    EXPECT_EQ(Bytes(sealed.begin() + 17, sealed.begin() + 22), term);
    const Envelope env = core::parse_envelope(sealed.data(), sealed.size());
    EXPECT_EQ(env.nonce, sealed.data() + 5);
    EXPECT_EQ(env.prefix_size, 22u);
    EXPECT_EQ(env.ciphertext, sealed.data() + 22);
    EXPECT_EQ(env.tag, sealed.data() + 25);
}

TEST_F(EnvelopeTest, SealingTwiceUsesFreshNonces) {
    const Bytes plaintext = from_string("same");
    EXPECT_NE(seal(ValueType::text, 1, 1, Bytes(), plaintext),
              seal(ValueType::text, 1, 1, Bytes(), plaintext));
}

TEST_F(EnvelopeTest, SealRejectsBadTermSizesAndKeyPairs) {
    std::uint8_t out[200], term[40] = {};
    auto seal_raw = [&](std::uint32_t keyring, std::uint32_t version, const std::uint8_t *t,
                        std::size_t term_size) {
        core::seal(aead_, nonces_, ValueType::text, keyring, version, t, term_size, nullptr, 0,
                   out);
    };
    EXPECT_CORE_ERROR(seal_raw(1, 1, term, 33), invalid_argument);
    EXPECT_CORE_ERROR(seal_raw(1, 1, nullptr, 4), invalid_argument);
    EXPECT_NO_THROW(seal_raw(0, 1, nullptr, 0));  // transit: version is the epoch
    EXPECT_NO_THROW(seal_raw(0, UINT32_MAX, nullptr, 0));
    EXPECT_CORE_ERROR(seal_raw(1, 0, nullptr, 0), invalid_argument);
    EXPECT_NO_THROW(seal_raw(1, 1, term, 32));
}

// An envelope carries no length field, so a truncated envelope with a
// non-empty ciphertext can still parse (as a shorter ciphertext); it must
// then fail authentication.  Without any ciphertext, every truncation is
// already refused by the parser.
TEST_F(EnvelopeTest, EveryTruncationIsRefusedByParseOrOpen) {
    const Bytes sealed = seal(ValueType::text, 300, 7, pattern(8), pattern(40));
    for (std::size_t length = 0; length < sealed.size(); ++length) {
        const Bytes truncated(sealed.begin(), sealed.begin() + static_cast<long>(length));
        try {
            const Envelope env = core::parse_envelope(truncated.data(), truncated.size());
            EXPECT_GE(length, env.prefix_size + core::kTagSize);
            Bytes out(env.ciphertext_size, 0xaa);
            EXPECT_CORE_ERROR(core::open(aead_, ValueType::text, env, out.data()),
                              authentication_failed);
            EXPECT_TRUE(all_zero(out));
        } catch (const core::Error &e) {
            EXPECT_EQ(e.code(), core::Errc::malformed_value) << length;
        }
    }

    const Bytes empty = seal(ValueType::text, 300, 7, pattern(8), Bytes());
    for (std::size_t length = 0; length < empty.size(); ++length) {
        EXPECT_CORE_ERROR(core::parse_envelope(empty.data(), length), malformed_value);
    }
}

// Trailing bytes are indistinguishable from a longer ciphertext: parse
// accepts them, open refuses them.
TEST_F(EnvelopeTest, ExtensionsParseAsLongerCiphertextButFailAuthentication) {
    const Bytes sealed = seal(ValueType::text, 1, 1, pattern(8), pattern(20));
    for (std::size_t extra = 1; extra <= 3; ++extra) {
        Bytes extended = sealed;
        extended.insert(extended.end(), extra, 0x00);
        const Envelope env = core::parse_envelope(extended.data(), extended.size());
        EXPECT_EQ(env.ciphertext_size, 20 + extra);
        EXPECT_CORE_ERROR(open(ValueType::text, extended), authentication_failed);
    }
}

// Hand-built envelopes: header bytes, raw varint bytes, then room for nonce,
// maximal term and tag, so only the defect under test can cause a rejection.
Bytes raw_envelope(std::uint8_t byte0, std::uint8_t byte1, const Bytes &varints) {
    Bytes out(2 + varints.size() + core::kNonceSize + 63 + core::kTagSize, 0x5a);
    out[0] = byte0;
    out[1] = byte1;
    std::copy(varints.begin(), varints.end(), out.begin() + 2);
    return out;
}

void expect_parse_error(const Bytes &envelope, core::Errc code, const char *what) {
    try {
        core::parse_envelope(envelope.data(), envelope.size());
        ADD_FAILURE() << "parse accepted: " << what;
    } catch (const core::Error &e) {
        EXPECT_EQ(e.code(), code) << what << ": " << e.what();
    }
}

TEST(EnvelopeParse, AcceptsWellFormedControlCases) {
    // Controls for the rejection tests below: same construction, no defect.
    EXPECT_NO_THROW(core::parse_envelope(raw_envelope(0x11, 0, {1, 1}).data(), 2 + 2 + 28));
    const Bytes max_ids = raw_envelope(0x11, 32, {0xff, 0xff, 0xff, 0xff, 0x0f, 0x80, 0x01});
    const Envelope env = core::parse_envelope(max_ids.data(), max_ids.size());
    EXPECT_EQ(env.keyring_id, UINT32_MAX);
    EXPECT_EQ(env.key_version, 128u);
    EXPECT_EQ(env.term_size, 32u);
    EXPECT_NO_THROW(core::parse_envelope(raw_envelope(0x11, 0, {0, 0}).data(), 2 + 2 + 28));
}

TEST(EnvelopeParse, RejectsNonMinimalOverlongAndOversizedVarints) {
    using core::Errc;
    expect_parse_error(raw_envelope(0x11, 0, {0x81, 0x00, 1}), Errc::malformed_value,
                       "1 encoded in two bytes");
    expect_parse_error(raw_envelope(0x11, 0, {1, 0x80, 0x80, 0x00}), Errc::malformed_value,
                       "0 encoded in three bytes");
    expect_parse_error(raw_envelope(0x11, 0, {0xff, 0xff, 0xff, 0xff, 0x8f, 0x00, 1}),
                       Errc::malformed_value, "six-byte varint");
    expect_parse_error(raw_envelope(0x11, 0, {0x81, 0x80, 0x80, 0x80, 0x80, 0x01, 1}),
                       Errc::malformed_value, "six-byte varint of small value");
    expect_parse_error(raw_envelope(0x11, 0, {0x80, 0x80, 0x80, 0x80, 0x10, 1}),
                       Errc::malformed_value, "2^32");
    expect_parse_error(raw_envelope(0x11, 0, {1, 0xff, 0xff, 0xff, 0xff, 0x7f}),
                       Errc::malformed_value, "version above 2^32-1");
}

TEST(EnvelopeParse, RejectsReservedBitsAndOversizedTerms) {
    expect_parse_error(raw_envelope(0x11, 0x40, {1, 1}), core::Errc::malformed_value, "bit 6");
    expect_parse_error(raw_envelope(0x11, 0x80, {1, 1}), core::Errc::malformed_value, "bit 7");
    for (std::uint8_t term_size = 33; term_size <= 63; ++term_size) {
        expect_parse_error(raw_envelope(0x11, term_size, {1, 1}), core::Errc::malformed_value,
                           "term size above 32");
    }
}

TEST(EnvelopeParse, RejectsUnknownFormatVersionOrAlgorithmAsUnsupported) {
    for (std::uint8_t byte0 : {0x01, 0x21, 0xf1, 0x10, 0x12, 0x1f}) {
        expect_parse_error(raw_envelope(byte0, 0, {1, 1}), core::Errc::unsupported_format,
                           "unknown version/algorithm");
    }
}

// Version 0 of a real keyring is a search value; seal never makes one.
TEST(EnvelopeParse, VersionZeroOfARealKeyringIsASearchValue) {
    const Bytes raw = raw_envelope(0x11, 0, {1, 0});
    const Envelope env = core::parse_envelope(raw.data(), raw.size());
    EXPECT_TRUE(core::is_search_value(env));
    const Bytes transit = raw_envelope(0x11, 0, {0, 5});
    EXPECT_FALSE(core::is_search_value(core::parse_envelope(transit.data(), transit.size())));
}

// A search value names its keyring and term in the header, carries a whole
// transit envelope as its payload, and peeks like a stored value.
TEST_F(EnvelopeTest, SearchValueWrapsATransitEnvelope) {
    const Bytes plaintext = pattern(11);
    const Bytes transit = seal(ValueType::text, core::kTransitKeyringId, 77, Bytes(), plaintext);
    for (std::uint32_t keyring : kIds) {
        for (std::size_t term_size : {0u, 1u, 8u, 32u}) {
            const Bytes term = pattern(term_size);
            const std::size_t size = core::search_value_size(keyring, term_size, transit.size());
            Bytes out(size + 8, 0xee);
            core::make_search_value(keyring, term.empty() ? nullptr : term.data(), term_size, transit.data(),
                                    transit.size(), out.data());
            EXPECT_EQ(Bytes(out.begin() + static_cast<long>(size), out.end()), Bytes(8, 0xee));
            out.resize(size);
            const Envelope env = core::parse_envelope(out.data(), out.size());
            ASSERT_TRUE(core::is_search_value(env));
            EXPECT_EQ(env.keyring_id, keyring);
            ASSERT_EQ(env.term_size, term_size);
            if (term_size > 0) {
                EXPECT_EQ(Bytes(env.term, env.term + term_size), term);
            }
            const Envelope payload = core::search_value_payload(env);
            EXPECT_EQ(payload.key_version, 77u);
            EXPECT_EQ(Bytes(payload.start, payload.start + payload.total_size), transit);
            Bytes opened(payload.ciphertext_size);
            core::open(aead_, ValueType::text, payload, opened.data());
            EXPECT_EQ(opened, plaintext);
            core::TermView view;
            if (keyring < 128 && term_size > 0) {
                ASSERT_TRUE(core::peek_term(out.data(), out.size(), &view));
                EXPECT_EQ(view.keyring_id, keyring);
                EXPECT_EQ(Bytes(view.term, view.term + view.term_size), term);
            }
            std::uint32_t id = 0, version = 99;
            ASSERT_TRUE(core::read_envelope_header(out.data(), out.size(), &id, &version));
            EXPECT_EQ(id, keyring);
            EXPECT_EQ(version, core::kSearchKeyVersion);
        }
    }
}

TEST_F(EnvelopeTest, SearchValuesCarryOnlyTransitEnvelopes) {
    const Bytes plaintext = pattern(5);
    const Bytes stored = seal(ValueType::text, 3, 1, Bytes(), plaintext);
    Bytes out(core::search_value_size(3, 0, stored.size()));
    EXPECT_CORE_ERROR(core::make_search_value(3, nullptr, 0, stored.data(), stored.size(), out.data()),
                      invalid_argument);
    const Bytes transit = seal(ValueType::text, core::kTransitKeyringId, 1, Bytes(), plaintext);
    EXPECT_CORE_ERROR(core::make_search_value(core::kTransitKeyringId, nullptr, 0, transit.data(), transit.size(),
                                              out.data()),
                      invalid_argument);
    // A search value whose payload is a stored envelope (made by hand) is malformed.
    Bytes forged = raw_envelope(0x11, 0, {3, 0});
    forged.resize(2 + 2 + core::kNonceSize);
    forged.insert(forged.end(), stored.begin(), stored.end());
    forged.insert(forged.end(), core::kTagSize, 0);
    const Envelope env = core::parse_envelope(forged.data(), forged.size());
    ASSERT_TRUE(core::is_search_value(env));
    EXPECT_CORE_ERROR(core::search_value_payload(env), malformed_value);
}

TEST_F(EnvelopeTest, EverySingleBitFlipIsRefused) {
    const Bytes sealed = seal(ValueType::text, 300, 2, pattern(8), pattern(20));
    for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
        Bytes flipped = sealed;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        try {
            open(ValueType::text, flipped);
            ADD_FAILURE() << "bit " << bit << " flipped and still opened";
        } catch (const core::Error &e) {
            EXPECT_NE(e.code(), core::Errc::invalid_argument) << bit;
            EXPECT_NE(e.code(), core::Errc::crypto_failure) << bit;
        }
    }
}

// peek_term reads id and term of the common shape, and agrees with
// parse_envelope on everything it accepts.
void expect_peek_agrees(const Bytes &bytes, const std::string &what) {
    core::TermView view{};
    if (!core::peek_term(bytes.data(), bytes.size(), &view)) {
        return;
    }
    try {
        const Envelope env = core::parse_envelope(bytes.data(), bytes.size());
        EXPECT_EQ(view.keyring_id, env.keyring_id) << what;
        EXPECT_EQ(view.key_version, env.key_version) << what;
        EXPECT_EQ(view.term, env.term) << what;
        EXPECT_EQ(view.term_size, env.term_size) << what;
    } catch (const core::Error &) {
        ADD_FAILURE() << what << ": peek_term accepted what parse_envelope refuses";
    }
}

TEST_F(EnvelopeTest, PeekTermReadsTheCommonShape) {
    for (std::size_t term_size : {1u, 8u, 32u}) {
        for (std::size_t size : {0u, 1u, 100u}) {
            const Bytes term = pattern(term_size, 3);
            const Bytes sealed = seal(ValueType::text, 127, 5, term, pattern(size));
            core::TermView view{};
            ASSERT_TRUE(core::peek_term(sealed.data(), sealed.size(), &view));
            EXPECT_EQ(view.keyring_id, 127u);
            EXPECT_EQ(Bytes(view.term, view.term + view.term_size), term);
        }
    }
}

// Versions of every varint size: the versions a keyring transfer's target
// makes (near 2^31) take five bytes.
TEST_F(EnvelopeTest, PeekTermReadsVersionsOfAnySize) {
    for (std::uint32_t version : {1u, 127u, 128u, 16383u, 16384u, 2145386496u, 0xffffffffu}) {
        const Bytes term = pattern(8, 7);
        const Bytes sealed = seal(ValueType::text, 9, version, term, pattern(5));
        core::TermView view{};
        ASSERT_TRUE(core::peek_term(sealed.data(), sealed.size(), &view)) << version;
        EXPECT_EQ(view.keyring_id, 9u);
        EXPECT_EQ(view.key_version, version);
        EXPECT_EQ(Bytes(view.term, view.term + view.term_size), term) << version;
        expect_peek_agrees(sealed, "version " + std::to_string(version));
        for (std::size_t n = 0; n < sealed.size(); ++n) {
            expect_peek_agrees(Bytes(sealed.begin(), sealed.begin() + static_cast<long>(n)),
                               "version " + std::to_string(version) + " truncated to " + std::to_string(n));
        }
        for (std::size_t bit = 0; bit < 24 * 8 && bit < sealed.size() * 8; ++bit) {
            Bytes flipped = sealed;
            flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            expect_peek_agrees(flipped, "version " + std::to_string(version) + " bit " + std::to_string(bit));
        }
    }
    // Non-minimal and over-long version varints are refused by both.
    Bytes sealed = seal(ValueType::text, 9, 1, pattern(8), pattern(5));
    Bytes padded(sealed.begin(), sealed.begin() + 3);
    padded.push_back(0x81);
    padded.push_back(0x00);  // 1 written in two bytes
    padded.insert(padded.end(), sealed.begin() + 4, sealed.end());
    core::TermView view{};
    EXPECT_FALSE(core::peek_term(padded.data(), padded.size(), &view));
    Bytes too_long(sealed.begin(), sealed.begin() + 3);
    for (int i = 0; i < 4; ++i) too_long.push_back(0xff);
    too_long.push_back(0x1f);  // bit 32 set
    too_long.insert(too_long.end(), sealed.begin() + 4, sealed.end());
    EXPECT_FALSE(core::peek_term(too_long.data(), too_long.size(), &view));
}

TEST_F(EnvelopeTest, PeekTermDeclinesOtherShapes) {
    core::TermView view{};
    const Bytes no_term = seal(ValueType::text, 1, 1, Bytes(), pattern(10));
    const Bytes transit = seal(ValueType::text, core::kTransitKeyringId, 0, Bytes(), pattern(10));
    const Bytes long_id = seal(ValueType::text, 128, 1, pattern(8), pattern(10));
    EXPECT_FALSE(core::peek_term(no_term.data(), no_term.size(), &view));
    EXPECT_FALSE(core::peek_term(transit.data(), transit.size(), &view));
    EXPECT_FALSE(core::peek_term(long_id.data(), long_id.size(), &view));
    EXPECT_FALSE(core::peek_term(nullptr, 0, &view));
}

// looks_transit routes transit values (any epoch, which may take more than
// one varint byte) and nothing of a keyring.
TEST_F(EnvelopeTest, LooksTransitTellsTransitValuesApart) {
    for (std::uint32_t epoch : {0u, 5u, 300u, 0xffffffu}) {
        const Bytes transit = seal(ValueType::text, core::kTransitKeyringId, epoch, Bytes(), pattern(10));
        EXPECT_TRUE(core::looks_transit(transit.data(), transit.size())) << epoch;
    }
    for (std::uint32_t keyring : {1u, 127u, 128u, 256u}) {
        const Bytes with_term = seal(ValueType::text, keyring, 1, pattern(8), pattern(10));
        const Bytes no_term = seal(ValueType::text, keyring, 1, Bytes(), pattern(10));
        EXPECT_FALSE(core::looks_transit(with_term.data(), with_term.size())) << keyring;
        EXPECT_FALSE(core::looks_transit(no_term.data(), no_term.size())) << keyring;
    }
    const Bytes transit = seal(ValueType::text, core::kTransitKeyringId, 1, Bytes(), pattern(10));
    EXPECT_FALSE(core::looks_transit(transit.data(), 2));
    EXPECT_FALSE(core::looks_transit(nullptr, 0));
    Bytes other_format = transit;
    other_format[0] ^= 0x10;
    EXPECT_FALSE(core::looks_transit(other_format.data(), other_format.size()));
}

// Every truncation, extension and single-bit flip of an envelope: whatever
// peek_term accepts, parse_envelope accepts alike.
TEST_F(EnvelopeTest, PeekTermNeverAcceptsWhatParseRefuses) {
    const Bytes sealed = seal(ValueType::text, 5, 1, pattern(8), pattern(20));
    for (std::size_t n = 0; n <= sealed.size(); ++n) {
        expect_peek_agrees(Bytes(sealed.begin(), sealed.begin() + static_cast<long>(n)),
                           "truncated to " + std::to_string(n));
    }
    Bytes longer = sealed;
    longer.push_back(0);
    expect_peek_agrees(longer, "one byte longer");
    for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
        Bytes flipped = sealed;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        expect_peek_agrees(flipped, "bit " + std::to_string(bit));
    }
    for (int b1 = 0; b1 < 256; ++b1) {
        for (int b3 = 0; b3 < 256; ++b3) {
            Bytes changed = sealed;
            changed[1] = static_cast<std::uint8_t>(b1);
            changed[3] = static_cast<std::uint8_t>(b3);
            expect_peek_agrees(changed, "bytes 1 and 3 set to " + std::to_string(b1) + ", " +
                                            std::to_string(b3));
        }
    }
}

TEST_F(EnvelopeTest, OpeningAsAnotherTypeOrUnderAnotherKeyFailsAndWipes) {
    const Bytes sealed = seal(ValueType::text, 1, 1, Bytes(), from_string("secret"));
    EXPECT_CORE_ERROR(open(ValueType::bytea, sealed), authentication_failed);

    const Envelope env = core::parse_envelope(sealed.data(), sealed.size());
    core::AesGcm other{core::SecretKey::random()};
    Bytes out(env.ciphertext_size, 0xaa);
    EXPECT_CORE_ERROR(core::open(other, ValueType::text, env, out.data()), authentication_failed);
    EXPECT_TRUE(all_zero(out));
}

// --- text form ---

std::string to_text(const Bytes &envelope) {
    std::string text(core::envelope_text_size(envelope.size()) + 4, '#');
    core::envelope_to_text(envelope.data(), envelope.size(), text.data());
    EXPECT_EQ(text.substr(text.size() - 4), "####");  // nothing written past the text
    text.resize(text.size() - 4);
    return text;
}

Bytes from_text(const std::string &text) {
    Bytes out(core::envelope_max_decoded_size(text.size()));
    out.resize(core::envelope_from_text(text.data(), text.size(), out.data()));
    return out;
}

TEST_F(EnvelopeTest, TextFormRoundTrips) {
    for (std::size_t size : {0u, 1u, 2u, 3u, 4u, 100u}) {
        const Bytes sealed = seal(ValueType::text, 5, 1, pattern(8), pattern(size));
        const std::string text = to_text(sealed);
        EXPECT_EQ(text.rfind("colcrypt:", 0), 0u);
        EXPECT_TRUE(core::has_envelope_prefix(text.data(), text.size()));
        EXPECT_GE(core::envelope_max_decoded_size(text.size()), sealed.size());
        EXPECT_EQ(from_text(text), sealed);
    }
    // Byte strings of every length modulo 3, independent of envelopes.
    for (std::size_t size = 0; size < 7; ++size) {
        EXPECT_EQ(from_text(to_text(pattern(size))), pattern(size)) << size;
    }
    EXPECT_EQ(to_text(from_string("abcd")), "colcrypt:YWJjZA==");
}

TEST(EnvelopeText, DetectsThePrefixExactly) {
    auto has = [](const std::string &s) { return core::has_envelope_prefix(s.data(), s.size()); };
    EXPECT_TRUE(has("colcrypt:"));
    EXPECT_TRUE(has("colcrypt:EQ=="));
    EXPECT_FALSE(has(""));
    EXPECT_FALSE(has("colcrypt"));
    EXPECT_FALSE(has("Colcrypt:EQ=="));
    EXPECT_FALSE(has(" colcrypt:EQ=="));
    EXPECT_FALSE(has("hello world"));
}

TEST(EnvelopeText, RejectsMissingPrefixAndBadBase64) {
    for (const char *bad : {
             "EQABAQ==",               // no prefix
             "colcrypt EQABAQ==",      // wrong prefix
             "colcrypt:EQABAQ=",       // length not a multiple of 4
             "colcrypt:EQAB AQ==",     // embedded space
             "colcrypt:EQABAQ==\n",    // trailing newline
             " colcrypt:EQABAQ==",     // leading space
             "colcrypt:EQ==AQAB",      // padding in the middle
             "colcrypt:EQABA===",      // three padding characters
             "colcrypt:EQAB*Q==",      // character outside the alphabet
             "colcrypt:EQABAR==",      // non-canonical: unused bits set
             "colcrypt:EQABAQ==AAAA",  // data after padding
         }) {
        const std::string text = bad;
        Bytes out(core::envelope_max_decoded_size(text.size()) + 1);
        EXPECT_CORE_ERROR(core::envelope_from_text(text.data(), text.size(), out.data()),
                          malformed_value);
    }
    EXPECT_EQ(core::envelope_max_decoded_size(3), 0u);
}


// The header alone: keyring id and version from the first bytes, as
// parse_envelope reads them; anything else is not a header.
TEST(EnvelopeHeader, ReadsIdAndVersionFromTheFirstBytes) {
    const core::SecretKey key = core::SecretKey::random();
    core::AesGcm aead(key);
    core::NonceSource nonces;
    const std::uint8_t term[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::string plaintext(5000, 'x');
    Bytes sealed(core::sealed_size(300, 70000, 8, plaintext.size()));
    core::seal(aead, nonces, core::ValueType::text, 300, 70000, term, 8,
               reinterpret_cast<const std::uint8_t *>(plaintext.data()), plaintext.size(), sealed.data());
    std::uint32_t id = 0, version = 0;
    ASSERT_TRUE(core::read_envelope_header(sealed.data(), core::kMaxHeaderSize, &id, &version));
    EXPECT_EQ(id, 300u);
    EXPECT_EQ(version, 70000u);
    EXPECT_FALSE(core::read_envelope_header(sealed.data(), 4, &id, &version));  // varints cut off
    Bytes bad = sealed;
    bad[0] = 0x21;  // format 2
    EXPECT_FALSE(core::read_envelope_header(bad.data(), bad.size(), &id, &version));
    bad = sealed;
    bad[1] |= 0x80;  // reserved bit
    EXPECT_FALSE(core::read_envelope_header(bad.data(), bad.size(), &id, &version));
    // Version 0 of a real keyring: a search value's header.
    const std::uint8_t version_zero[] = {0x11, 0x00, 0x05, 0x00};
    EXPECT_TRUE(core::read_envelope_header(version_zero, sizeof version_zero, &id, &version));
    EXPECT_EQ(id, 5u);
    EXPECT_EQ(version, core::kSearchKeyVersion);
}

// The largest value's envelope, with the largest header, in its text form
// plus a terminator, fits in PostgreSQL's largest allocation.
TEST(EnvelopeLimits, TheLargestValueStaysDumpable) {
    constexpr std::size_t kMaxAllocSize = 0x3fffffff;
    const std::size_t envelope =
        core::sealed_size(0xffffffffu, 0xffffffffu, core::kMaxTermSize, core::kMaxPlaintextSize);
    EXPECT_LE(core::envelope_text_size(envelope) + 1, kMaxAllocSize);
    EXPECT_EQ(core::kMaxPlaintextSize, 805305344u);
}

TEST(EnvelopeLimits, SealRefusesLargerValues) {
    const core::SecretKey key = core::SecretKey::random();
    core::AesGcm aead(key);
    core::NonceSource nonces;
    std::uint8_t out[1];
    const std::uint8_t byte = 0;
    // The size is checked before anything is read or written.
    EXPECT_CORE_ERROR(core::seal(aead, nonces, core::ValueType::text, 1, 1, nullptr, 0, &byte,
                                 core::kMaxPlaintextSize + 1, out),
                      invalid_argument);
}

}  // namespace
}  // namespace colcrypt::test
