// Equality and order of encrypted values, from terms and plaintexts.
#include "colcrypt/core/comparison.hpp"

#include <cstring>

#include "colcrypt/core/secure.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

TermOrder order_by_terms(const std::uint8_t *a, const std::uint8_t *b, std::size_t size) noexcept {
    const int c = size == 0 ? 0 : std::memcmp(a, b, size);
    if (c != 0) {
        return c < 0 ? TermOrder::less : TermOrder::greater;
    }
    return term_is_conclusive(size) ? TermOrder::equal : TermOrder::undecided;
}

TermMatch match_by_terms(const std::uint8_t *a, const std::uint8_t *b, std::size_t size) noexcept {
    if (!constant_time_equal(a, b, size)) {
        return TermMatch::different;
    }
    return term_is_conclusive(size) ? TermMatch::same : TermMatch::undecided;
}

int order_by_plaintexts(Normalization normalization, const std::uint8_t *a, std::size_t a_size,
                        const std::uint8_t *b, std::size_t b_size) noexcept {
    return compare_normalized(normalization, a, a_size, b, b_size);
}

int order_sign(TermOrder order) noexcept {
    return order == TermOrder::less ? -1 : order == TermOrder::greater ? 1 : 0;
}

}  // namespace colcrypt::core
