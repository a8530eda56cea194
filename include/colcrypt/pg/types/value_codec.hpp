// Sealing and opening encrypted values: the part every colcrypt type shares.
//
// A type modifier >= 0 names the keyring (see core/keyring_name.hpp); -1
// means "not known yet": such values are sealed under a transit key
// (keys/transit_keys.hpp) and re-sealed under the column's keyring by the
// type-modifier coercion, which PostgreSQL applies whenever a value is
// stored into a column whose modifier differs.  Plaintext is therefore never
// stored, whatever path a value takes.
//
// Sealing under a keyring needs the encrypt privilege, and two ways to
// decrypt are named for who sees the result: decrypt_for_user checks the
// decrypt privilege (keys/keyring_privilege.hpp) first;
// decrypt_for_comparison does not, and its plaintext must only be compared
// and wiped, never returned, shown or logged.
#pragma once

#include <cstddef>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Encrypt plaintext under the keyring typmod names (transit for -1), which
// needs the current user's encrypt privilege on that keyring.  A
// transit value's plaintext is kept in the transaction cache
// (state/transaction_cache.hpp): binding or comparing it then opens nothing.
struct varlena *seal_value(core::ValueType type, const char *plaintext, std::size_t size, int32 typmod);

// Whether a value is a transit value (core::looks_transit): a routing hint,
// the value is parsed where it is used.
bool is_transit_value(struct varlena *value);

// Parse a stored value's header without decrypting.
core::Envelope parse_value(struct varlena *value);

// Decrypt into a fresh buffer of ciphertext-size + 1 bytes, NUL-terminated;
// *size receives the plaintext size.  ERROR unless the current user may
// decrypt the value's keyring.
char *decrypt_for_user(core::ValueType type, struct varlena *value, std::size_t *size);

// decrypt_for_user for an output function: nullptr, rather than the ERROR,
// when the user may not decrypt the value and PostgreSQL is describing a
// constraint violation (types/violation_description.hpp); the output
// function then shows the envelope.
char *decrypt_for_output(core::ValueType type, struct varlena *value, std::size_t *size);

// decrypt_for_user straight into a new varlena (a text or bytea datum): the result
// is the plaintext itself, with no copy left to wipe.
struct varlena *decrypt_for_user_as_varlena(core::ValueType type, struct varlena *value);

// Decrypt a value parsed with parse_value (which must still be valid) for
// colcrypt's own comparisons (confirming a blind-index match), WITHOUT the
// privilege check: *size bytes, NUL-terminated, to be compared and wiped
// only.
char *decrypt_for_comparison(core::ValueType type, const core::Envelope &envelope, std::size_t *size);

// The value re-sealed under the keyring typmod names; the value itself when
// it already is under that keyring or typmod is -1.  Re-sealing a value of
// another keyring needs the decrypt privilege on that keyring; re-sealing
// anything needs the encrypt privilege on the target.  With
// remember_plaintext, a re-sealed value's plaintext goes to the transaction
// cache, for the comparisons it is bound for.
struct varlena *bind_value(core::ValueType type, struct varlena *value, int32 typmod,
                           bool remember_plaintext = false);

// A search value (core/envelope.hpp) of the keyring typmod (>= 0) names:
// the keyring's term of the plaintext around a transit envelope of it, for
// lookups by users without the encrypt privilege.  Its plaintext goes to the
// transaction cache.
struct varlena *make_search_value(core::ValueType type, const char *plaintext, std::size_t size, int32 typmod);

// A value made comparable in the order of the keyring typmod names: values
// of that keyring (stored or search values) as they are, anything else as a
// search value of its plaintext (a value of another keyring needs the
// decrypt privilege on it).  Seals nothing under any keyring.
struct varlena *search_value_for(core::ValueType type, struct varlena *value, int32 typmod);

// Text form ("colcrypt:" + base64) of a value, palloc'd and NUL-terminated.
char *value_to_envelope_text(struct varlena *value);

// A value from its text form: verified by decrypting, then kept as it is if
// it belongs to the keyring typmod names (or typmod is -1), else re-sealed.
// A search value comes back as the transit value it carries.
// type_name is for error messages.
struct varlena *value_from_envelope_text(core::ValueType type, const char *type_name, const char *text,
                                         std::size_t size, int32 typmod);

}  // namespace colcrypt::pg
