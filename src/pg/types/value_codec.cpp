// Sealing, opening and re-binding encrypted values; their text form.  See
// include/colcrypt/pg/types/value_codec.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/proc.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/keyring_policy.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_privilege.hpp"
#include "colcrypt/pg/keys/restore_session.hpp"
#include "colcrypt/pg/keys/transit_keys.hpp"
#include "colcrypt/pg/keys/version_locks.hpp"
#include "colcrypt/pg/state/nonce_counters.hpp"
#include "colcrypt/pg/state/transaction_cache.hpp"
#include "colcrypt/pg/state/usage_stats.hpp"
#include "colcrypt/pg/types/value_codec.hpp"
#include "colcrypt/pg/types/violation_description.hpp"

namespace colcrypt::pg {

namespace {

// This backend's nonces; allocated once, never destroyed.
core::NonceSource *backend_nonces = nullptr;

core::NonceSource &nonce_source() {
    if (backend_nonces == nullptr)
        backend_nonces = cpp_guard([] { return new core::NonceSource(); });
    return *backend_nonces;
}

struct varlena *new_varlena(std::size_t size) {
    auto *v = static_cast<struct varlena *>(palloc(VARHDRSZ + size));
    SET_VARSIZE(v, VARHDRSZ + size);
    return v;
}

// Seal under key; a keyring's data key counts the encryption first (transit
// keys are bounded per backend instead, keys/transit_keys.hpp).
struct varlena *seal_with(const core::SealingKey &key, const char *keyring_name, core::ValueType type,
                          const char *plaintext, std::size_t size) {
    std::size_t sealed = cpp_guard([&] { return core::sealed_value_size(key, size); });
    struct varlena *out = new_varlena(sealed);
    core::NonceSource &nonces = nonce_source();
    if (key.keyring_id != core::kTransitKeyringId) {
        count_encryption(key.keyring_id, key.key_version, keyring_name);
        count_usage(key.keyring_id, UsageEvent::encryption);
    }
    cpp_guard([&] {
        core::seal_value(key, nonces, type, reinterpret_cast<const std::uint8_t *>(plaintext), size,
                         reinterpret_cast<std::uint8_t *>(VARDATA(out)));
    });
    return out;
}

// What a memo of keys and of the current user's privileges depends on:
// read before the lookups it remembers (an invalidation processed during
// them leaves the memo stale), compared with the present at every use.
struct KeysAndGrants {
    Oid user;
    std::uint64_t key_epoch;
    std::uint64_t grant_epoch;

    static KeysAndGrants now() { return KeysAndGrants{GetUserId(), key_cache_epoch(), privilege_epoch()}; }
    bool current() const {
        return key_epoch == key_cache_epoch() && grant_epoch == privilege_epoch() && user == GetUserId();
    }
};

// What sealing under a type modifier's keyring last needed: its active key,
// the encrypt privilege of the user, and that version's write lock.  A load
// seals row after row under one keyring; while nothing that decides these
// changes, the next value skips the three lookups.  The key's pointers stay
// valid while the key cache's epoch does (a stale cache's keyrings are
// retired, not freed, until the transaction's end); the decision holds for
// one user while the privilege epoch does; the lock is held until the end
// of the subtransaction that took it.
struct SealingMemo {
    bool valid = false;
    int32 typmod;
    LocalTransactionId lxid;
    SubTransactionId subxid;
    KeysAndGrants state;
    SealingKeyring keyring;
};
SealingMemo last_sealing;

bool last_sealing_holds(int32 typmod) {
    const SealingMemo &m = last_sealing;
    return m.valid && m.typmod == typmod && m.lxid == MyProc->lxid && m.state.current() &&
           m.subxid == GetCurrentSubTransactionId();
}

// The key a plaintext is sealed under for a column of this type modifier,
// after the checks sealing needs.  The version's write lock first, so that
// it cannot be retired while this transaction may still store values under
// it; after waiting for it, the keyring is looked up again (a rotation or a
// retirement may have committed meanwhile).
SealingKeyring keyring_for_sealing(int32 typmod) {
    if (last_sealing_holds(typmod))
        return last_sealing.keyring;
    KeysAndGrants state = KeysAndGrants::now();
    SealingKeyring keyring = sealing_key_for_typmod(typmod);
    require_encrypt_privilege(keyring.key.keyring_id);
    while (lock_version_for_writing(keyring.key.keyring_id, keyring.key.key_version)) {
        std::uint32_t locked = keyring.key.key_version;
        keyring = sealing_key_for_typmod(typmod);
        if (keyring.key.key_version == locked)
            break;
    }
    last_sealing = SealingMemo{true, typmod, MyProc->lxid, GetCurrentSubTransactionId(), state, keyring};
    return keyring;
}

// Transit values and search values hold the session's own input, sealed
// under a transit key: no keyring's grant is needed to open them.
bool is_session_value(const core::Envelope &envelope) {
    return envelope.keyring_id == core::kTransitKeyringId || core::is_search_value(envelope);
}

// What decrypts: the envelope itself, or the transit envelope a search value
// carries (whose plaintext size is the search value's plaintext size).
core::Envelope sealed_part(const core::Envelope &envelope) {
    if (!core::is_search_value(envelope))
        return envelope;
    return cpp_guard([&] { return core::search_value_payload(envelope); });
}

// Decrypt sealed, the part of a parsed envelope that decrypts
// (sealed_part), into out (sealed.ciphertext_size bytes).  Decryptions of
// keyring values (counted: not session values) count in colcrypt.stats
// under the envelope's keyring, and so do those that fail authentication
// (a tampered value, or one moved between columns).
void open_sealed_with(core::ValueType type, std::uint32_t keyring_id, const core::Envelope &sealed,
                      core::AesGcm &aead, bool counted, char *out) {
    std::optional<CaughtError> failed = cpp_try({core::Errc::authentication_failed}, [&] {
        core::open(aead, type, sealed, reinterpret_cast<std::uint8_t *>(out));
    });
    if (failed) {
        if (counted)
            count_usage(keyring_id, UsageEvent::failure);
        raise_caught_error(*failed);
    }
    if (counted)
        count_usage(keyring_id, UsageEvent::decryption);
}

void open_sealed_into(core::ValueType type, std::uint32_t keyring_id, const core::Envelope &sealed, bool counted,
                      char *out) {
    open_sealed_with(type, keyring_id, sealed, data_key(sealed.keyring_id, sealed.key_version), counted, out);
}

// The last stored value's key version a user was allowed to decrypt, and
// its key: a scan decrypts one keyring's values row after row.  The
// decision holds for that user while the privilege epoch does; the key's
// pointer while the key cache's epoch does (see SealingMemo).
struct OpeningMemo {
    bool valid = false;
    std::uint32_t keyring_id;
    std::uint32_t key_version;
    KeysAndGrants state;
    core::AesGcm *aead;
};
OpeningMemo last_opening;

// The key of a stored value (not a session value) when the memo answers
// for it, else nullptr.
core::AesGcm *remembered_key_for_user(const core::Envelope &envelope) {
    const OpeningMemo &m = last_opening;
    if (m.valid && m.keyring_id == envelope.keyring_id && m.key_version == envelope.key_version && m.state.current())
        return m.aead;
    return nullptr;
}

// The decrypt privilege checked for a stored value, and its key.
core::AesGcm &key_for_user(const core::Envelope &envelope) {
    if (core::AesGcm *aead = remembered_key_for_user(envelope))
        return *aead;
    KeysAndGrants state = KeysAndGrants::now();
    require_decrypt_privilege(envelope.keyring_id);
    core::AesGcm &aead = data_key(envelope.keyring_id, envelope.key_version);
    last_opening = OpeningMemo{true, envelope.keyring_id, envelope.key_version, state, &aead};
    return aead;
}

// Decrypt a parsed envelope into out (sealed_part(envelope).ciphertext_size bytes).
void open_into(core::ValueType type, const core::Envelope &envelope, char *out) {
    if (is_session_value(envelope))
        open_sealed_into(type, envelope.keyring_id, sealed_part(envelope), false, out);
    else
        open_sealed_into(type, envelope.keyring_id, envelope, true, out);
}

// The plaintext size of a parsed envelope.
std::size_t plaintext_size(const core::Envelope &envelope) {
    return sealed_part(envelope).ciphertext_size;
}

// Decrypt a parsed envelope into a fresh NUL-terminated buffer.
char *open_envelope(core::ValueType type, const core::Envelope &envelope) {
    std::size_t size = plaintext_size(envelope);
    char *plaintext = static_cast<char *>(palloc(size + 1));
    open_into(type, envelope, plaintext);
    plaintext[size] = '\0';
    return plaintext;
}

// The decrypt privilege, checked before anything whose plaintext can reach
// the user: output in plaintext mode, casts to text, binary send, and
// re-encryption under another keyring (which would otherwise launder a
// value into a keyring the user can read).  Transit values and search
// values hold what the session itself typed, and need no grant.
void require_user_may_open(const core::Envelope &envelope) {
    if (!is_session_value(envelope))
        require_decrypt_privilege(envelope.keyring_id);
}

char *open_for_user(core::ValueType type, const core::Envelope &envelope) {
    require_user_may_open(envelope);
    return open_envelope(type, envelope);
}

// Whether a value already belongs where typmod says it should.  A search
// value never belongs to a column: storing one seals its plaintext.
bool belongs_to(const core::Envelope &envelope, int32 typmod) {
    if (typmod < 0)
        return true;
    if (is_session_value(envelope))
        return false;
    return envelope.keyring_id == keyring_id_for_typmod(typmod);
}

}  // namespace

core::Envelope parse_value(struct varlena *value) {
    const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value));
    std::size_t size = VARSIZE_ANY_EXHDR(value);
    return cpp_guard([&] { return core::parse_envelope(data, size); });
}

struct varlena *seal_value(core::ValueType type, const char *plaintext, std::size_t size, int32 typmod) {
    if (size > core::kMaxPlaintextSize)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("value is too large to encrypt"),
                        errdetail("The value has %zu bytes; colcrypt encrypts at most %zu, so that the text form of "
                                  "every stored value (ciphertext output, dumps) fits in 1 GB.",
                                  size, core::kMaxPlaintextSize),
                        errhint("Store larger values in pieces, or outside the database.")));
    struct varlena *sealed;
    if (typmod < 0) {
        sealed = seal_with(transit_sealing_key(), "transit", type, plaintext, size);
        // A transit value is opened again soon, in the same statement: bound
        // to a column's keyring, or compared.  Its plaintext (the session's
        // own input) is kept for the transaction instead.
        cache_plaintext(type, sealed, plaintext, size);
    } else {
        SealingKeyring keyring = keyring_for_sealing(typmod);
        sealed = seal_with(keyring.key, keyring.keyring_name, type, plaintext, size);
    }
    return sealed;
}

bool is_transit_value(struct varlena *value) {
    return core::looks_transit(reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(value)), VARSIZE_ANY_EXHDR(value));
}

char *decrypt_for_user(core::ValueType type, struct varlena *value, std::size_t *size) {
    core::Envelope envelope = parse_value(value);
    *size = plaintext_size(envelope);
    return open_for_user(type, envelope);
}

char *decrypt_for_output(core::ValueType type, struct varlena *value, std::size_t *size) {
    core::Envelope envelope = parse_value(value);
    if (!is_session_value(envelope)) {
        // A stored value: its envelope is what decrypts.
        core::AesGcm *aead = remembered_key_for_user(envelope);
        if (aead == nullptr) {
            if (!may_decrypt(envelope.keyring_id) && describing_a_violation())
                return nullptr;
            aead = &key_for_user(envelope);
        }
        *size = envelope.ciphertext_size;
        char *plaintext = static_cast<char *>(palloc(*size + 1));
        open_sealed_with(type, envelope.keyring_id, envelope, *aead, true, plaintext);
        plaintext[*size] = '\0';
        return plaintext;
    }
    *size = plaintext_size(envelope);
    return open_envelope(type, envelope);
}

char *decrypt_for_comparison(core::ValueType type, const core::Envelope &envelope, std::size_t *size) {
    *size = plaintext_size(envelope);
    return open_envelope(type, envelope);
}

// core::open wipes the output when the value does not authenticate, so the
// varlena holds nothing readable when the error is raised.
struct varlena *decrypt_for_user_as_varlena(core::ValueType type, struct varlena *value) {
    core::Envelope envelope = parse_value(value);
    if (!is_session_value(envelope)) {
        // A stored value, the common case: its envelope is what decrypts.
        core::AesGcm &aead = key_for_user(envelope);
        struct varlena *result = new_varlena(envelope.ciphertext_size);
        open_sealed_with(type, envelope.keyring_id, envelope, aead, true, VARDATA(result));
        return result;
    }
    core::Envelope sealed = sealed_part(envelope);
    struct varlena *result = new_varlena(sealed.ciphertext_size);
    open_sealed_into(type, envelope.keyring_id, sealed, false, VARDATA(result));
    return result;
}

namespace {

// The plaintext of a parsed value for re-sealing it elsewhere, palloc'd
// (size + 1 bytes): from the transaction cache for the session's own values,
// else decrypted for the user (the decrypt privilege of its keyring).
char *plaintext_to_reseal(core::ValueType type, struct varlena *value, const core::Envelope &envelope,
                          std::size_t *size) {
    *size = plaintext_size(envelope);
    std::size_t cached_size;
    const char *cached = is_session_value(envelope) ? cached_plaintext(type, value, &cached_size) : nullptr;
    if (cached == nullptr)
        return open_for_user(type, envelope);
    // A copy: caching a result later may replace the cached entry.
    char *plaintext = static_cast<char *>(palloc(cached_size + 1));
    std::memcpy(plaintext, cached, cached_size);
    plaintext[cached_size] = '\0';
    return plaintext;
}

void wipe_and_free(char *plaintext, std::size_t size) {
    core::secure_wipe(plaintext, size);
    pfree(plaintext);
}

}  // namespace

struct varlena *bind_value(core::ValueType type, struct varlena *value, int32 typmod, bool remember_plaintext) {
    core::Envelope envelope = parse_value(value);
    if (belongs_to(envelope, typmod))
        return value;
    std::size_t size;
    char *plaintext = plaintext_to_reseal(type, value, envelope, &size);
    struct varlena *rebound = seal_value(type, plaintext, size, typmod);
    if (remember_plaintext)
        cache_plaintext(type, rebound, plaintext, size);
    wipe_and_free(plaintext, size);
    return rebound;
}

struct varlena *make_search_value(core::ValueType type, const char *plaintext, std::size_t size, int32 typmod) {
    // Sealed without caching the transit envelope's plaintext: only the
    // search value's is looked up later.
    if (size > core::kMaxPlaintextSize)
        return seal_value(type, plaintext, size, typmod);  // reports the size
    struct varlena *transit = seal_with(transit_sealing_key(), "transit", type, plaintext, size);
    // Not the sealing key: an imported keyring without an active version
    // still makes search values (nothing is sealed under it).
    std::uint32_t keyring_id = keyring_id_for_typmod(typmod);
    IndexKey index = index_key_for_keyring(keyring_id);
    const core::TermPolicy &policy = index.policy;
    std::size_t term_size = index.index != nullptr ? policy.stored_term_size() : 0;
    std::uint8_t term[core::kMaxTermSize];
    if (term_size > 0)
        cpp_guard([&] {
            core::comparison_term(*index.index, policy, type, reinterpret_cast<const std::uint8_t *>(plaintext),
                                  size, term);
        });
    std::size_t transit_size = VARSIZE_ANY_EXHDR(transit);
    std::size_t search_size =
        cpp_guard([&] { return core::search_value_size(keyring_id, term_size, transit_size); });
    struct varlena *search = new_varlena(search_size);
    cpp_guard([&] {
        core::make_search_value(keyring_id, term_size > 0 ? term : nullptr, term_size,
                                reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(transit)), transit_size,
                                reinterpret_cast<std::uint8_t *>(VARDATA(search)));
    });
    core::secure_wipe(term, sizeof term);
    pfree(transit);
    cache_plaintext(type, search, plaintext, size);
    return search;
}

struct varlena *search_value_for(core::ValueType type, struct varlena *value, int32 typmod) {
    core::Envelope envelope = parse_value(value);
    std::uint32_t keyring_id = keyring_id_for_typmod(typmod);
    // Stored values of the keyring, and its search values, are compared as they are.
    if (envelope.keyring_id == keyring_id)
        return value;
    std::size_t size;
    char *plaintext = plaintext_to_reseal(type, value, envelope, &size);
    struct varlena *search = make_search_value(type, plaintext, size, typmod);
    wipe_and_free(plaintext, size);
    return search;
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

namespace {

// The transit envelope a search value carries, as a value of its own: search
// values come only from colcrypt._bind, never from input, whose term could
// be forged.
struct varlena *transit_payload(const core::Envelope &search) {
    core::Envelope payload = sealed_part(search);
    struct varlena *transit = new_varlena(payload.total_size);
    std::memcpy(VARDATA(transit), payload.start, payload.total_size);
    return transit;
}

}  // namespace

struct varlena *value_from_envelope_text(core::ValueType type, const char *type_name, const char *text,
                                         std::size_t size, int32 typmod) {
    struct varlena *value = new_varlena(core::envelope_max_decoded_size(size));
    auto *bytes = reinterpret_cast<std::uint8_t *>(VARDATA(value));
    std::optional<CaughtError> malformed = cpp_try({core::Errc::malformed_value}, [&] {
        std::size_t decoded = core::envelope_from_text(text, size, bytes);
        SET_VARSIZE(value, VARHDRSZ + decoded);
        core::Envelope envelope = core::parse_envelope(bytes, decoded);
        if (core::is_search_value(envelope))
            core::search_value_payload(envelope);
    });
    if (malformed)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type %s: malformed colcrypt envelope", type_name),
                        errdetail("Input that starts with \"%s\" must be a complete colcrypt envelope.",
                                  core::kTextPrefix)));
    core::Envelope envelope = parse_value(value);
    // A restore may load this table before colcrypt's key tables: an
    // envelope of a keyring not there yet is kept as it is, unverified for
    // now; it is authenticated on every read, like any stored value.  Only
    // roles that restore may do that (keys/restore_session.hpp): anyone can
    // turn check_function_bodies off.
    if (restoring_with_privileges() && !keyring_exists(envelope.keyring_id) && !core::is_search_value(envelope))
        return value;
    // Otherwise verify before storing: an envelope is only accepted if it
    // decrypts.  Kept as it is, its plaintext reaches no one: no grant needed
    // (this is how a ciphertext-mode restore works).  Re-encrypted under
    // another keyring, it needs the grant on its own keyring.
    bool keep = belongs_to(envelope, typmod);
    std::size_t opened_size = plaintext_size(envelope);
    char *plaintext = keep ? open_envelope(type, envelope) : open_for_user(type, envelope);
    struct varlena *result;
    if (!keep)
        result = seal_value(type, plaintext, opened_size, typmod);
    else if (core::is_search_value(envelope))
        result = transit_payload(envelope);  // a search value typed back in is what it carries
    else
        result = value;
    wipe_and_free(plaintext, opened_size);
    return result;
}

}  // namespace colcrypt::pg
