// Small helpers shared by the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "colcrypt/core/error.hpp"

namespace colcrypt::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes from_hex(const std::string &hex) {
    if (hex.size() % 2 != 0) {
        throw std::invalid_argument("odd-length hex");
    }
    Bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    }
    return out;
}

inline std::string to_hex(const std::uint8_t *data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0f];
    }
    return out;
}

inline std::string to_hex(const Bytes &bytes) { return to_hex(bytes.data(), bytes.size()); }

inline Bytes from_string(const std::string &s) { return Bytes(s.begin(), s.end()); }

// Deterministic filler: byte i is (i * 31 + seed) mod 256.
inline Bytes pattern(std::size_t size, unsigned seed = 7) {
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<std::uint8_t>(i * 31 + seed);
    }
    return out;
}

inline bool all_zero(const Bytes &bytes) {
    for (std::uint8_t b : bytes) {
        if (b != 0) return false;
    }
    return true;
}

}  // namespace colcrypt::test

// Assert that statement throws colcrypt::core::Error with the given Errc.
#define EXPECT_CORE_ERROR(statement, errc)                                               \
    do {                                                                                 \
        try {                                                                            \
            statement;                                                                   \
            ADD_FAILURE() << "expected colcrypt::core::Error(" #errc "): " #statement;   \
        } catch (const ::colcrypt::core::Error &e_) {                                    \
            EXPECT_EQ(e_.code(), ::colcrypt::core::Errc::errc) << e_.what();             \
        }                                                                                \
    } while (0)
