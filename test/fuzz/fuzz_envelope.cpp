// libFuzzer target (cmake -DCOLCRYPT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++).
//   build/cmake/fuzz_envelope [corpus_dir]
// Inputs are tried as binary envelopes and as envelope text.  A fuzzer
// cannot forge tags, so this exercises parsing and every rejection path;
// the successful open path is covered by the unit-test driver, which mutates
// real sealed envelopes.
#include <cstddef>
#include <cstdint>

#include "fuzz/envelope_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    colcrypt::fuzz::fuzz_envelope_input(data, size);
    return 0;
}
