// Sealing, opening and re-binding encrypted values; their text form.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "utils/guc.h"
}

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/access_control.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/nonce_budget.hpp"
#include "colcrypt/pg/sql_error.hpp"
#include "colcrypt/pg/transaction_cache.hpp"
#include "colcrypt/pg/value_codec.hpp"

namespace colcrypt::pg {

int guc_output_mode = static_cast<int>(OutputMode::plaintext);

namespace {

const struct config_enum_entry output_mode_options[] = {
    {"plaintext", static_cast<int>(OutputMode::plaintext), false},
    {"ciphertext", static_cast<int>(OutputMode::ciphertext), false},
    {nullptr, 0, false},
};

struct varlena *new_varlena(std::size_t size) {
    auto *v = static_cast<struct varlena *>(palloc(VARHDRSZ + size));
    SET_VARSIZE(v, VARHDRSZ + size);
    return v;
}

struct varlena *seal_with(const EncryptionKey &key, core::ValueType type, const char *plaintext,
                          std::size_t size) {
    std::size_t sealed = cpp_guard(
        [&] { return core::sealed_size(key.keyring_id, key.key_version, key.term_size, size); });
    struct varlena *out = new_varlena(sealed);
    core::NonceSource &nonces = nonce_source();
    count_encryption(key);
    cpp_guard([&] {
        const auto *pt = reinterpret_cast<const std::uint8_t *>(plaintext);
        std::uint8_t term[core::kMaxTermSize];
        if (key.term_size > 0)
            key.index->term(type, pt, size, key.term_size, term, key.normalization);
        core::seal(*key.aead, nonces, type, key.keyring_id, key.key_version, term, key.term_size, pt, size,
                   reinterpret_cast<std::uint8_t *>(VARDATA(out)));
        core::secure_wipe(term, sizeof(term));
    });
    return out;
}

EncryptionKey key_for_typmod(int32 typmod) {
    return typmod < 0 ? transit_encryption_key() : encryption_key_for_typmod(typmod);
}

// Decrypt a parsed envelope into a fresh NUL-terminated buffer.
char *open_envelope(core::ValueType type, const core::Envelope &envelope) {
    core::AesGcm &aead = decryption_key(envelope.keyring_id, envelope.key_version);
    char *plaintext = static_cast<char *>(palloc(envelope.ciphertext_size + 1));
    cpp_guard([&] { core::open(aead, type, envelope, reinterpret_cast<std::uint8_t *>(plaintext)); });
    plaintext[envelope.ciphertext_size] = '\0';
    return plaintext;
}

// The decrypt privilege, checked before anything whose plaintext can reach
// the user: output in plaintext mode, casts to text, binary send, and
// re-encryption under another keyring (which would otherwise launder a
// value into a keyring the user can read).  Transit values belong to no
// keyring and need no grant.
void require_user_may_open(const core::Envelope &envelope) {
    if (envelope.keyring_id != core::kTransitKeyringId)
        require_decrypt_privilege(envelope.keyring_id);
}

// Decrypt for the user.
char *open_for_user(core::ValueType type, const core::Envelope &envelope) {
    require_user_may_open(envelope);
    return open_envelope(type, envelope);
}

// Whether a value already belongs where typmod says it should.
bool belongs_to(const core::Envelope &envelope, int32 typmod) {
    if (typmod < 0)
        return true;
    if (envelope.keyring_id == core::kTransitKeyringId)
        return false;
    return envelope.keyring_id == encryption_key_for_typmod(typmod).keyring_id;
}

}  // namespace

void define_value_codec_gucs() {
    DefineCustomEnumVariable("colcrypt.output_mode", "How encrypted columns are shown: plaintext or ciphertext.",
                             "ciphertext returns each value's authenticated envelope as text, which the input "
                             "accepts back as it is: the mode for backup, dump and replication roles.",
                             &guc_output_mode, static_cast<int>(OutputMode::plaintext), output_mode_options,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

core::Envelope parse_value(struct varlena *value) {
    const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value));
    std::size_t size = VARSIZE_ANY_EXHDR(value);
    return cpp_guard([&] { return core::parse_envelope(data, size); });
}

struct varlena *seal_value(core::ValueType type, const char *plaintext, std::size_t size, int32 typmod) {
    struct varlena *sealed = seal_with(key_for_typmod(typmod), type, plaintext, size);
    // A transit value is opened again soon, in the same statement: bound to
    // a column's keyring, or compared.  Its plaintext (the session's own
    // input) is kept for the transaction instead.
    if (typmod < 0)
        cache_plaintext(type, sealed, plaintext, size);
    return sealed;
}

bool is_transit_value(struct varlena *value) {
    return core::looks_transit(reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value)), VARSIZE_ANY_EXHDR(value));
}

char *open_value(core::ValueType type, struct varlena *value, std::size_t *size) {
    core::Envelope envelope = parse_value(value);
    *size = envelope.ciphertext_size;
    return open_for_user(type, envelope);
}

char *open_value_internal_unchecked(core::ValueType type, struct varlena *value, std::size_t *size) {
    core::Envelope envelope = parse_value(value);
    *size = envelope.ciphertext_size;
    return open_envelope(type, envelope);
}

char *open_parsed_value(core::ValueType type, const core::Envelope &envelope) {
    return open_envelope(type, envelope);
}

// core::open wipes the output when the value does not authenticate, so the
// varlena holds nothing readable when the error is raised.
struct varlena *open_value_as_varlena(core::ValueType type, struct varlena *value) {
    core::Envelope envelope = parse_value(value);
    require_user_may_open(envelope);
    core::AesGcm &aead = decryption_key(envelope.keyring_id, envelope.key_version);
    struct varlena *result = new_varlena(envelope.ciphertext_size);
    cpp_guard([&] { core::open(aead, type, envelope, reinterpret_cast<std::uint8_t *>(VARDATA(result))); });
    return result;
}

struct varlena *bind_value(core::ValueType type, struct varlena *value, int32 typmod, bool remember_plaintext) {
    core::Envelope envelope = parse_value(value);
    if (belongs_to(envelope, typmod))
        return value;
    char *plaintext;
    std::size_t cached_size;
    const char *cached = envelope.keyring_id == core::kTransitKeyringId
                             ? cached_plaintext(type, value, &cached_size)
                             : nullptr;
    if (cached != nullptr) {
        // A copy: caching the result below may replace the cached entry.
        plaintext = static_cast<char *>(palloc(cached_size + 1));
        std::memcpy(plaintext, cached, cached_size);
    } else {
        plaintext = open_for_user(type, envelope);
    }
    struct varlena *rebound = seal_value(type, plaintext, envelope.ciphertext_size, typmod);
    if (remember_plaintext)
        cache_plaintext(type, rebound, plaintext, envelope.ciphertext_size);
    core::secure_wipe(plaintext, envelope.ciphertext_size);
    pfree(plaintext);
    return rebound;
}

char *value_to_envelope_text(struct varlena *value) {
    const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value));
    std::size_t size = VARSIZE_ANY_EXHDR(value);
    std::size_t text_size = cpp_guard([&] { return core::envelope_text_size(size); });
    char *text = static_cast<char *>(palloc(text_size + 1));
    cpp_guard([&] { core::envelope_to_text(data, size, text); });
    text[text_size] = '\0';
    return text;
}

struct varlena *value_from_envelope_text(core::ValueType type, const char *type_name, const char *text,
                                         std::size_t size, int32 typmod) {
    struct varlena *value = new_varlena(core::envelope_max_decoded_size(size));
    auto *bytes = reinterpret_cast<std::uint8_t *>(VARDATA(value));
    bool well_formed = cpp_guard([&] {
        try {
            std::size_t decoded = core::envelope_from_text(text, size, bytes);
            SET_VARSIZE(value, VARHDRSZ + decoded);
            core::parse_envelope(bytes, decoded);
            return true;
        } catch (const core::Error &e) {
            if (e.code() == core::Errc::malformed_value)
                return false;
            throw;
        }
    });
    if (!well_formed)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type %s: malformed colcrypt envelope", type_name),
                        errdetail("Input that starts with \"%s\" must be a complete colcrypt envelope.",
                                  core::kTextPrefix)));
    core::Envelope envelope = parse_value(value);
    // A restore may load this table before colcrypt's key tables: an
    // envelope of a keyring not there yet is kept as it is, unverified for
    // now; it is authenticated on every read, like any stored value.
    if (in_restore() && !keyring_exists(envelope.keyring_id))
        return value;
    // Otherwise verify before storing: an envelope is only accepted if it
    // decrypts.  Kept as it is, its plaintext reaches no one: no grant needed
    // (this is how a ciphertext-mode restore works).  Re-encrypted under
    // another keyring, it needs the grant on its own keyring.
    bool keep = belongs_to(envelope, typmod);
    char *plaintext = keep ? open_envelope(type, envelope) : open_for_user(type, envelope);
    struct varlena *result = keep ? value : seal_value(type, plaintext, envelope.ciphertext_size, typmod);
    core::secure_wipe(plaintext, envelope.ciphertext_size);
    pfree(plaintext);
    return result;
}

}  // namespace colcrypt::pg
