// Canonical forms of sealed plaintexts (see canonical_form.hpp).
#include "colcrypt/core/canonical_form.hpp"

#include <cstring>
#include <string>

#include "colcrypt/core/cpp_only.hpp"
#include "colcrypt/core/secure.hpp"

namespace colcrypt::core {

namespace {

// numeric's send format: int16 ndigits, int16 weight, uint16 sign, int16
// dscale, then the base-10000 digits.  numeric strips leading and trailing
// zero digits and gives zero the positive sign, so two equal numerics
// differ at most in dscale, the display scale.
constexpr std::size_t kNumericHeaderSize = 8;
constexpr std::size_t kNumericDscaleOffset = 6;

void canonical_numeric(const std::uint8_t *plaintext, std::size_t size, std::vector<std::uint8_t> &out) {
    out.assign(plaintext, plaintext + size);
    if (size >= kNumericHeaderSize) {
        out[kNumericDscaleOffset] = 0;
        out[kNumericDscaleOffset + 1] = 0;
    }
}

bool is_number_byte(std::uint8_t c) noexcept {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// A JSON number as numeric's output writes it ("-12.500"), as numeric's
// equality sees it: no trailing fractional zeros, no bare point, zero
// unsigned.  Numbers with an exponent (numeric's output has none) are kept.
void append_canonical_number(const std::uint8_t *number, std::size_t size, std::vector<std::uint8_t> &out) {
    std::size_t end = size;
    bool has_point = false, has_exponent = false;
    for (std::size_t i = 0; i < size; ++i) {
        has_point = has_point || number[i] == '.';
        has_exponent = has_exponent || number[i] == 'e' || number[i] == 'E';
    }
    if (has_point && !has_exponent) {
        while (end > 0 && number[end - 1] == '0')
            --end;
        if (end > 0 && number[end - 1] == '.')
            --end;
    }
    if (end == 2 && number[0] == '-' && number[1] == '0') {
        out.push_back('0');
        return;
    }
    out.insert(out.end(), number, number + end);
}

// jsonb's sealed form: a version byte, then jsonb's own text output, whose
// keys are sorted and unique and whose strings are escaped one way only.
// Numbers outside strings are rewritten; everything else is kept.
void canonical_jsonb(const std::uint8_t *plaintext, std::size_t size, std::vector<std::uint8_t> &out) {
    out.clear();
    out.reserve(size);
    bool in_string = false;
    for (std::size_t i = 0; i < size;) {
        const std::uint8_t c = plaintext[i];
        if (i == 0) {  // the version byte
            out.push_back(c);
            ++i;
        } else if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < size) {
                out.push_back(plaintext[i + 1]);
                i += 2;
                continue;
            }
            in_string = c != '"';
            ++i;
        } else if (c == '"') {
            in_string = true;
            out.push_back(c);
            ++i;
        } else if ((c >= '0' && c <= '9') || c == '-') {
            std::size_t start = i;
            while (i < size && is_number_byte(plaintext[i]))
                ++i;
            append_canonical_number(plaintext + start, i - start, out);
        } else {
            out.push_back(c);
            ++i;
        }
    }
}

// Holds a canonical form and wipes it: it is as secret as the plaintext.
struct WipedBytes {
    std::vector<std::uint8_t> bytes;
    ~WipedBytes() {
        if (!bytes.empty())
            secure_wipe(bytes.data(), bytes.size());
    }
};

}  // namespace

bool canonical_form_rewrites(ValueType type) noexcept {
    return type == ValueType::numeric || type == ValueType::jsonb;
}

void canonical_form(ValueType type, const std::uint8_t *plaintext, std::size_t size, std::vector<std::uint8_t> &out) {
    if (!out.empty())
        secure_wipe(out.data(), out.size());
    switch (type) {
    case ValueType::numeric:
        canonical_numeric(plaintext, size, out);
        return;
    case ValueType::jsonb:
        canonical_jsonb(plaintext, size, out);
        return;
    default:
        out.assign(plaintext, plaintext + size);
        return;
    }
}

Normalization normalization_for(ValueType type, Normalization keyring_normalization) noexcept {
    return type == ValueType::text ? keyring_normalization : Normalization::none;
}

int compare_canonical(ValueType type, Normalization keyring_normalization, const std::uint8_t *a,
                      std::size_t a_size, const std::uint8_t *b, std::size_t b_size) {
    const Normalization normalization = normalization_for(type, keyring_normalization);
    if (!canonical_form_rewrites(type))
        return compare_normalized(normalization, a, a_size, b, b_size);
    WipedBytes ca, cb;
    canonical_form(type, a, a_size, ca.bytes);
    canonical_form(type, b, b_size, cb.bytes);
    return compare_normalized(normalization, ca.bytes.data(), ca.bytes.size(), cb.bytes.data(), cb.bytes.size());
}

}  // namespace colcrypt::core
