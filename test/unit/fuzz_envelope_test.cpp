// Deterministic driver for the envelope fuzz logic (test/fuzz), so every CI
// run exercises it without libFuzzer: real sealed envelopes and their text
// forms, mutated by a seeded std::mt19937 with byte flips, truncations and
// extensions.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "colcrypt/core/envelope.hpp"
#include "fuzz/envelope_fuzz.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using fuzz::Outcome;

// Seeds: envelopes of several shapes sealed with the fuzz key, binary and text.
std::vector<Bytes> make_seeds() {
    core::NonceSource nonces;
    std::vector<Bytes> seeds;
    const std::uint32_t ids[][2] = {{0, 0}, {1, 1}, {300, 2}, {UINT32_MAX, UINT32_MAX}};
    for (const auto &id : ids) {
        for (std::size_t term_size : {0u, 8u, 32u}) {
            for (std::size_t size : {0u, 1u, 37u}) {
                const Bytes term = pattern(term_size, 1), plaintext = pattern(size, 2);
                Bytes sealed(core::sealed_size(id[0], id[1], term_size, size));
                core::seal(fuzz::fuzz_aead(), nonces, fuzz::kFuzzType, id[0], id[1],
                           term.data(), term_size, plaintext.data(), size, sealed.data());
                seeds.push_back(sealed);
                Bytes text(core::envelope_text_size(sealed.size()));
                core::envelope_to_text(sealed.data(), sealed.size(),
                                       reinterpret_cast<char *>(text.data()));
                seeds.push_back(text);
            }
        }
    }
    return seeds;
}

// One random mutation; the result always differs from the input.
Bytes mutate(const Bytes &input, std::mt19937 &rng) {
    Bytes out = input;
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    switch (pick(4)) {
        case 0: {  // flip 1..4 bytes (xor with a non-zero value)
            const std::size_t flips = 1 + pick(4);
            for (std::size_t i = 0; i < flips; ++i) {
                out[pick(out.size())] ^= static_cast<std::uint8_t>(1 + pick(255));
            }
            if (out == input) {  // two flips of one byte cancelled out
                out[0] ^= 1;
            }
            break;
        }
        case 1:  // truncate
            out.resize(pick(out.size()));
            break;
        case 2: {  // extend by 1..16 random bytes
            const std::size_t extra = 1 + pick(16);
            for (std::size_t i = 0; i < extra; ++i) {
                out.push_back(static_cast<std::uint8_t>(pick(256)));
            }
            break;
        }
        default:  // truncate and flip a byte of what is left
            out.resize(1 + pick(out.size()));
            out[pick(out.size())] ^= 0x40;
            break;
    }
    return out;
}

TEST(FuzzEnvelope, UnmutatedSeedsOpen) {
    for (const Bytes &seed : make_seeds()) {
        EXPECT_EQ(fuzz::fuzz_envelope_input(seed.data(), seed.size()), Outcome::opened);
    }
}

// Thousands of mutants: the fuzz logic raises on any unexpected behaviour
// (wrong error code, inconsistent parse, unwiped output), and no mutant may
// authenticate.
TEST(FuzzEnvelope, MutatedSeedsAreRefusedCleanly) {
    const std::vector<Bytes> seeds = make_seeds();
    std::mt19937 rng(20240601);
    int outcomes[3] = {};
    for (int i = 0; i < 5000; ++i) {
        const Bytes &seed = seeds[static_cast<std::size_t>(i) % seeds.size()];
        const Bytes input = mutate(seed, rng);
        Outcome outcome{};
        ASSERT_NO_THROW(outcome = fuzz::fuzz_envelope_input(input.data(), input.size()))
            << "mutant " << i << ": " << to_hex(input);
        ASSERT_NE(outcome, Outcome::opened) << "mutant " << i << ": " << to_hex(input);
        ++outcomes[static_cast<int>(outcome)];
    }
    // Both rejection paths must be exercised, or the mutations are too weak.
    EXPECT_GT(outcomes[static_cast<int>(Outcome::rejected)], 100);
    EXPECT_GT(outcomes[static_cast<int>(Outcome::not_authentic)], 100);
}

TEST(FuzzEnvelope, ArbitraryBytesAreRefusedCleanly) {
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        Bytes input(std::uniform_int_distribution<std::size_t>(0, 120)(rng));
        for (std::uint8_t &b : input) {
            b = static_cast<std::uint8_t>(rng());
        }
        if (i % 2 == 1) {  // give the text path a chance
            const std::string prefix = core::kTextPrefix;
            input.insert(input.begin(), prefix.begin(), prefix.end());
        }
        ASSERT_NO_THROW(fuzz::fuzz_envelope_input(input.data(), input.size())) << to_hex(input);
    }
}

}  // namespace
}  // namespace colcrypt::test
