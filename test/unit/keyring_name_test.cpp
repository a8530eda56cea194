// Keyring names and the type modifier derived from them.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "colcrypt/core/keyring_name.hpp"

using colcrypt::core::is_valid_keyring_name;
using colcrypt::core::keyring_type_modifier;

namespace {

bool valid(const std::string &name) { return is_valid_keyring_name(name.data(), name.size()); }

TEST(KeyringName, AcceptsLowerCaseLettersDigitsUnderscores) {
    EXPECT_TRUE(valid("pii"));
    EXPECT_TRUE(valid("a"));
    EXPECT_TRUE(valid("hr_2026"));
    EXPECT_TRUE(valid(std::string(63, 'k')));
}

TEST(KeyringName, RejectsEverythingElse) {
    EXPECT_FALSE(valid(""));
    EXPECT_FALSE(valid(std::string(64, 'k')));
    EXPECT_FALSE(valid("PII"));
    EXPECT_FALSE(valid("9lives"));
    EXPECT_FALSE(valid("_leading"));
    EXPECT_FALSE(valid("has space"));
    EXPECT_FALSE(valid("dash-ed"));
    EXPECT_FALSE(valid("quote'"));
    EXPECT_FALSE(valid(std::string("nul\0x", 5)));
    EXPECT_FALSE(valid("\xc3\xa9t\xc3\xa9"));
}

TEST(KeyringName, TypeModifierIsNonNegativeStableAndNameSpecific) {
    int32_t pii = keyring_type_modifier("pii", 3);
    EXPECT_GE(pii, 0);
    EXPECT_EQ(pii, keyring_type_modifier("pii", 3));
    EXPECT_NE(pii, keyring_type_modifier("hr", 2));
    EXPECT_NE(pii, keyring_type_modifier("pij", 3));
    // Pinned (first 31 bits of SHA-256 of the name): a changed derivation
    // would orphan every existing column's keyring, so it must fail here.
    EXPECT_EQ(pii, 1031123936);
    EXPECT_EQ(keyring_type_modifier("hr", 2), 458421154);
    for (const char *name : {"a", "b", "pii", "hr", "finance", "z9_"})
        EXPECT_GE(keyring_type_modifier(name, std::strlen(name)), 0);
}

}  // namespace
