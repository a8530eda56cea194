// Fuzz entry logic for envelope parsing, shared by the libFuzzer target
// (fuzz_envelope.cpp) and the deterministic GoogleTest driver
// (test/unit/fuzz_envelope_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/envelope.hpp"

namespace colcrypt::fuzz {

// What became of one input.
enum class Outcome {
    rejected,        // neither parsed as an envelope nor decoded as envelope text
    not_authentic,   // parsed, but open() refused it
    opened,          // parsed and authenticated
};

// The fixed AEAD and value type every input is opened with.  Seeds for the
// fuzzer are envelopes sealed with these.
core::AesGcm &fuzz_aead();
constexpr core::ValueType kFuzzType = core::ValueType::text;

// Treat data as a binary envelope and, if it has the text prefix, as envelope
// text: parse_envelope, envelope_from_text, open.  Errors the core is
// expected to raise for bad input are absorbed; anything else (another Errc,
// another exception type, inconsistent parse results) throws
// std::logic_error, which libFuzzer reports as a crash.
Outcome fuzz_envelope_input(const std::uint8_t *data, std::size_t size);

}  // namespace colcrypt::fuzz
