// Stored formats are forever: values, wrapped keys and terms written by
// colcrypt 0.1.0 (test/fixtures/v1, made by make_fixture.sh beside it) must
// open, unwrap and match with today's core.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/keyring_policy.hpp"
#include "colcrypt/core/master_key.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

std::string fixture_path(const std::string &name) { return std::string(COLCRYPT_FIXTURES_DIR) + "/v1/" + name; }

std::vector<std::vector<std::string>> read_rows(const std::string &name, char separator) {
    std::ifstream in(fixture_path(name));
    if (!in) {
        throw std::runtime_error("cannot read fixture " + fixture_path(name));
    }
    std::vector<std::vector<std::string>> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> fields;
        std::stringstream stream(line);
        std::string field;
        while (std::getline(stream, field, separator)) fields.push_back(field);
        if (!line.empty() && line.back() == separator) fields.emplace_back();
        rows.push_back(fields);
    }
    return rows;
}

// A bytea in COPY text format: \\x followed by hex digits.
Bytes copy_bytea(const std::string &field) {
    if (field.rfind("\\\\x", 0) != 0) {
        throw std::runtime_error("not a COPY bytea: " + field.substr(0, 8));
    }
    return from_hex(field.substr(3));
}

struct Fixture {
    core::SecretKey master_secret;
    std::map<std::uint32_t, core::TermPolicy> policies;  // by keyring id
    std::map<std::tuple<std::uint32_t, std::string, std::uint32_t>, std::pair<Bytes, std::string>> wrapped;

    Fixture() {
        std::ifstream key_file(fixture_path("master.key"));
        std::string text;
        std::getline(key_file, text);
        master_secret = core::parse_master_key(text.data(), text.size());
        // keyring_id, name, type_modifier, index_term_bits, case_insensitive, created_at, created_by
        for (const auto &row : read_rows("keyrings.copy", '\t')) {
            policies[std::stoul(row.at(0))] = core::TermPolicy::for_keyring(std::stoi(row.at(3)), row.at(4) == "t", 1);
        }
        // keyring_id, purpose, version, state, wrapped_key, master_key_fingerprint, created_at
        for (const auto &row : read_rows("key_versions.copy", '\t')) {
            wrapped[{std::stoul(row.at(0)), row.at(1), std::stoul(row.at(2))}] = {copy_bytea(row.at(4)), row.at(5)};
        }
    }

    core::SecretKey unwrap(core::MasterKey &master, std::uint32_t keyring, const std::string &purpose,
                           std::uint32_t version) {
        const auto &[bytes, fingerprint] = wrapped.at({keyring, purpose, version});
        EXPECT_EQ(fingerprint, master.fingerprint());
        return master.unwrap(keyring, purpose == "data" ? core::KeyPurpose::data : core::KeyPurpose::index, version,
                             bytes.data(), bytes.size());
    }
};

TEST(V1Fixture, EveryEnvelopeOpensAndKeepsItsTerm) {
    Fixture fixture;
    core::MasterKey master(fixture.master_secret);
    const auto rows = read_rows("envelopes.txt", '|');
    ASSERT_EQ(rows.size(), 10u);
    for (const auto &row : rows) {
        // id | keyring name | key version | envelope text | plaintext hex
        SCOPED_TRACE("fixture value " + row.at(0));
        const std::string &text = row.at(3);
        Bytes bytes(core::envelope_max_decoded_size(text.size()));
        bytes.resize(core::envelope_from_text(text.data(), text.size(), bytes.data()));
        const core::Envelope env = core::parse_envelope(bytes.data(), bytes.size());
        EXPECT_EQ(env.format_version, 1);
        EXPECT_EQ(env.key_version, std::stoul(row.at(2)));

        std::unique_ptr<core::AesGcm> aead;
        if (env.keyring_id == core::kTransitKeyringId) {
            EXPECT_EQ(row.at(1), "transit");
            aead = std::make_unique<core::AesGcm>(master.transit_key(env.key_version));
        } else {
            aead = std::make_unique<core::AesGcm>(fixture.unwrap(master, env.keyring_id, "data", env.key_version));
        }
        Bytes plaintext(env.ciphertext_size);
        core::open(*aead, core::ValueType::text, env, plaintext.data());
        EXPECT_EQ(to_hex(plaintext), row.at(4));

        if (env.keyring_id != core::kTransitKeyringId) {
            const core::TermPolicy &policy = fixture.policies.at(env.keyring_id);
            ASSERT_EQ(env.term_size, policy.stored_term_size());
            core::BlindIndex index(fixture.unwrap(master, env.keyring_id, "index", 1));
            Bytes term(policy.compared_term_size());
            core::comparison_term(index, policy, core::ValueType::text, plaintext.data(), plaintext.size(),
                                  term.data());
            EXPECT_EQ(to_hex(env.term, env.term_size), to_hex(term.data(), env.term_size));
        }
    }
}

// The type is bound into every envelope: a v1 text value never opens as
// another type.
TEST(V1Fixture, TypeBindingHolds) {
    Fixture fixture;
    core::MasterKey master(fixture.master_secret);
    const auto rows = read_rows("envelopes.txt", '|');
    const std::string &text = rows.at(0).at(3);
    Bytes bytes(core::envelope_max_decoded_size(text.size()));
    bytes.resize(core::envelope_from_text(text.data(), text.size(), bytes.data()));
    const core::Envelope env = core::parse_envelope(bytes.data(), bytes.size());
    core::AesGcm aead(fixture.unwrap(master, env.keyring_id, "data", env.key_version));
    Bytes plaintext(env.ciphertext_size);
    EXPECT_CORE_ERROR(core::open(aead, core::ValueType::bytea, env, plaintext.data()), authentication_failed);
}

}  // namespace
}  // namespace colcrypt::test
