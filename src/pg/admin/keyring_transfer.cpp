// SQL-callable keyring transfer between clusters with different master keys:
// colcrypt.transfer_key() on the target, colcrypt.export_keyring() on the
// source, colcrypt.import_keyring() on the target.  The design, the identity
// rules and the formats are in docs/design/keyring-transfer.md; the
// cryptography is core/keyring_transfer.hpp's.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/keyring_transfer.hpp"
#include "colcrypt/core/version_range.hpp"
#include "colcrypt/pg/admin/keyring_transfer.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/keys/key_wrapping.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_transfer_key);
PG_FUNCTION_INFO_V1(colcrypt_export_keyring);
PG_FUNCTION_INFO_V1(colcrypt_import_keyring);
}

namespace colcrypt::pg {

std::int32_t next_data_key_version(std::int32_t keyring_id, const char *name, std::int32_t latest) {
    if (!extension_version_at_least(0, 2))
        return latest + 1;  // 0.1.0's tables have no version ranges
    catalog::KeyringIdentity identity;
    catalog::keyring_identity(keyring_id, &identity);
    core::VersionRange range{identity.version_start, identity.version_end};
    std::int32_t latest_here = catalog::latest_data_version_in(keyring_id, range.start, range.end);
    std::optional<std::int32_t> next = core::next_local_version(range, latest_here);
    if (!next)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("keyring \"%s\" has no data-key version left to make on this database", name),
                        errdetail("This database makes versions %d to %d of it, and version %d exists; the other "
                                  "versions belong to databases the keyring was exported to or from.",
                                  range.start, range.end - 1, latest_here),
                        errhint("Create a new keyring and re-encrypt the values under it.")));
    return *next;
}

namespace {

// A transfer id as 32 hex digits, palloc'd: how messages and the audit name it.
char *transfer_id_hex(const std::uint8_t id[core::kTransferIdSize]) {
    static const char digits[] = "0123456789abcdef";
    char *out = (char *) palloc(2 * core::kTransferIdSize + 1);
    for (std::size_t i = 0; i < core::kTransferIdSize; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 0x0f];
    }
    out[2 * core::kTransferIdSize] = '\0';
    return out;
}

[[noreturn]] void report_bad_recipient() {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("recipient is not a colcrypt transfer key"),
                    errdetail("A recipient is the text colcrypt.transfer_key() returns on the target database, "
                              "starting with \"colcrypt-transfer:\"."),
                    errhint("Run SELECT colcrypt.transfer_key() on the target database and pass its result "
                            "unchanged.")));
    pg_unreachable();
}

// What an opened bundle holds, rewrapped under the local master key: plain
// data (no destructors), so PostgreSQL code may use it and ereport.
struct ImportedKeyring {
    catalog::KeyringIdentity identity;
    char source_fingerprint[core::kFingerprintHexSize + 1];
    std::int32_t index_version;
    std::uint8_t index_wrapped[core::kWrappedKeySize];
    int data_count;
    std::int32_t *data_versions;                        // palloc'd
    std::uint8_t (*data_wrapped)[core::kWrappedKeySize];  // palloc'd
};

// ERROR unless the keyrings with the bundle's id, name, type modifier or
// uuid are exactly the bundle's keyring itself (a re-import).  Returns
// whether it is one.
bool check_identity(const catalog::KeyringIdentity &bundle) {
    int count;
    catalog::KeyringIdentity *found =
        catalog::keyrings_matching(bundle.keyring_id, bundle.name, bundle.typmod, bundle.uuid, &count);
    bool reimport = false;
    for (int i = 0; i < count; i++) {
        const catalog::KeyringIdentity &here = found[i];
        bool same_uuid = std::memcmp(here.uuid, bundle.uuid, catalog::kUuidSize) == 0;
        if (same_uuid && here.keyring_id == bundle.keyring_id && strcmp(here.name, bundle.name) == 0) {
            reimport = true;
            continue;
        }
        if (same_uuid)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                            errmsg("the bundle's keyring \"%s\" (id %d) is keyring \"%s\" (id %d) on this database",
                                   bundle.name, bundle.keyring_id, here.name, here.keyring_id),
                            errdetail("Both have one identity (keyring_uuid) but different names or ids.")));
        if (here.keyring_id == bundle.keyring_id)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                            errmsg("keyring id %d of the bundle's keyring \"%s\" is taken by keyring \"%s\" on this "
                                   "database",
                                   bundle.keyring_id, bundle.name, here.name),
                            errdetail("Envelopes name their keyring by id, authenticated, so an imported keyring "
                                      "keeps its id; keyring \"%s\" here is another keyring.",
                                      here.name),
                            errhint("Import into a database without keyring id %d, or create keyrings on one "
                                    "cluster and transfer them to the others.",
                                    bundle.keyring_id)));
        if (strcmp(here.name, bundle.name) == 0)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                            errmsg("keyring \"%s\" exists on this database as another keyring", bundle.name),
                            errdetail("The bundle's keyring has id %d; keyring \"%s\" here has id %d and another "
                                      "identity (keyring_uuid).",
                                      bundle.keyring_id, here.name, here.keyring_id),
                            errhint("Import into a database without a keyring of that name.")));
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("keyring name \"%s\" collides with keyring \"%s\"", bundle.name, here.name),
                        errdetail("Both names map to type modifier %d.", bundle.typmod),
                        errhint("Import into a database without keyring \"%s\".", here.name)));
    }
    return reimport;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;
namespace core = colcrypt::core;

// colcrypt.transfer_key() returns text: a new transfer request, its private
// key wrapped by the master key, and the recipient text for export_keyring.
extern "C" Datum colcrypt_transfer_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("transfer_key");
    core::MasterKey &master = master_key();
    char *creator = GetUserNameFromId(actor.current_user, false);
    std::uint8_t transfer_id[core::kTransferIdSize];
    std::uint8_t public_key[core::kX25519KeySize];
    std::uint8_t wrapped[core::kWrappedKeySize];
    text *result = nullptr;
    cpp_guard([&] {
        core::X25519KeyPair pair = core::x25519_generate();
        core::Recipient recipient;
        core::random_bytes(recipient.transfer_id, sizeof recipient.transfer_id);
        std::memcpy(recipient.public_key, pair.public_key, sizeof recipient.public_key);
        recipient.token = core::transfer_token(pair.private_key);
        master.wrap_transfer_key(recipient.transfer_id, pair.private_key, wrapped);
        std::memcpy(transfer_id, recipient.transfer_id, sizeof transfer_id);
        std::memcpy(public_key, pair.public_key, sizeof public_key);
        std::string formatted = core::format_recipient(recipient);
        pg_guard([&] { result = cstring_to_text_with_len(formatted.data(), (int) formatted.size()); });
        core::secure_wipe(&formatted[0], formatted.size());  // it holds the token
    });
    catalog::insert_transfer_request(transfer_id, public_key, wrapped, master.fingerprint(), creator);
    record_key_event(actor, KeyEvent::transfer_key, nullptr, 0, 0,
                     psprintf("transfer %s: a key pair for receiving a keyring, its private key wrapped by master "
                              "key %s",
                              transfer_id_hex(transfer_id), master.fingerprint()));
    PG_RETURN_TEXT_P(result);
}

// colcrypt.export_keyring(keyring text, recipient text) returns bytea: the
// keyring's keys sealed for the recipient; reserves a version range for it.
extern "C" Datum colcrypt_export_keyring(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("export_keyring");
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    text *recipient_arg = PG_GETARG_TEXT_PP(1);
    const char *recipient = VARDATA_ANY(recipient_arg);
    std::size_t recipient_size = VARSIZE_ANY_EXHDR(recipient_arg);
    std::uint8_t transfer_id[core::kTransferIdSize];
    if (cpp_try({core::Errc::malformed_value}, [&] {
            core::Recipient parsed = core::parse_recipient(recipient, recipient_size);
            std::memcpy(transfer_id, parsed.transfer_id, sizeof transfer_id);
        }))
        report_bad_recipient();

    core::MasterKey &master = master_key();
    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, true, &keyring);
    catalog::KeyringIdentity identity;
    catalog::keyring_identity(keyring.keyring_id, &identity);
    // A bundle carries one index key: every data version it carries must be
    // bound to it (docs/design/reencryption.md, section 7).
    int off_order;
    (void) catalog::data_versions_off_order_key((std::uint32_t) keyring.keyring_id, &off_order);
    if (off_order > 0 || catalog::order_index_version(keyring.keyring_id) !=
                             catalog::active_index_version(keyring.keyring_id))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("cannot export keyring \"%s\" during a blind-index key rotation", keyring.name),
                        errdetail("Its data key versions are bound to more than one blind-index key, and a bundle "
                                  "carries one."),
                        errhint("Finish the rotation first: SELECT colcrypt.upgrade_index_order('%s'), then "
                                "colcrypt.retire_key of each older data key version.",
                                keyring.name)));
    long count;
    catalog::StoredKeyRow *rows = catalog::transferable_keys(keyring.keyring_id, &count);
    long index_row = -1;
    StringInfoData versions;
    initStringInfo(&versions);
    for (long i = 0; i < count; i++) {
        check_fingerprint(keyring.name, rows[i].fingerprint);
        if (rows[i].purpose == core::KeyPurpose::index)
            index_row = i;
        else
            appendStringInfo(&versions, "%s%d", versions.len > 0 ? ", " : "", rows[i].version);
    }
    if (index_row < 0 || versions.len == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" has no %s key to export", keyring.name,
                               index_row < 0 ? "blind-index" : "data")));

    core::VersionRange range{identity.version_start, identity.version_end};
    std::int32_t latest_here = catalog::latest_data_version_in(keyring.keyring_id, range.start, range.end);
    std::optional<core::VersionRange> block = core::reserve_transfer_range(range, latest_here);
    if (!block)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("keyring \"%s\" cannot be exported from this database", keyring.name),
                        errdetail("This database makes versions %d to %d of it, too few to reserve a range for "
                                  "another database.",
                                  range.start, range.end - 1),
                        errhint("Export it from the database it was exported to this one from.")));

    bytea *bundle = nullptr;
    long failed_row = -1;
    std::optional<CaughtError> failed =
        cpp_try({core::Errc::authentication_failed, core::Errc::malformed_value, core::Errc::invalid_argument}, [&] {
            core::Recipient parsed = core::parse_recipient(recipient, recipient_size);
            core::KeyringPayload payload;
            std::memcpy(payload.uuid, identity.uuid, sizeof payload.uuid);
            payload.keyring_id = (std::uint32_t) identity.keyring_id;
            payload.name = identity.name;
            payload.term_bits = (std::uint16_t) identity.term_bits;
            payload.case_insensitive = identity.case_insensitive;
            payload.index_order = (std::uint8_t) identity.index_order;
            payload.recipient_range = *block;
            std::memcpy(payload.source_fingerprint, master.fingerprint(), sizeof payload.source_fingerprint);
            payload.data_keys.reserve((std::size_t) count);
            for (long i = 0; i < count; i++) {
                const catalog::StoredKeyRow &row = rows[i];
                failed_row = i;
                core::SecretKey key = master.unwrap((std::uint32_t) row.keyring_id, row.purpose,
                                                    (std::uint32_t) row.version, row.wrapped, row.wrapped_size);
                if (row.purpose == core::KeyPurpose::index)
                    payload.index_key = core::TransferredKey{(std::uint32_t) row.version, key};
                else
                    payload.data_keys.push_back(core::TransferredKey{(std::uint32_t) row.version, key});
            }
            failed_row = -1;
            std::vector<std::uint8_t> sealed = core::seal_bundle(parsed, payload);
            pg_guard([&] {
                bundle = (bytea *) palloc(VARHDRSZ + sealed.size());
                SET_VARSIZE(bundle, VARHDRSZ + sealed.size());
                std::memcpy(VARDATA(bundle), sealed.data(), sealed.size());
            });
        });
    if (failed && failed_row >= 0)
        report_damaged_key(keyring.name, rows[failed_row].purpose, (std::uint32_t) rows[failed_row].version);
    if (failed)
        report_bad_recipient();  // a public key of small order

    catalog::set_version_end(keyring.keyring_id, block->start);
    record_key_event(actor, KeyEvent::export_keyring, keyring.name, 0, 0,
                     psprintf("transfer %s: data key versions %s and blind-index key version %d sealed for the "
                              "recipient; versions %d to %d reserved for it, this database keeps %d to %d",
                              transfer_id_hex(transfer_id), versions.data, rows[index_row].version, block->start,
                              block->end - 1, range.start, block->start - 1));
    PG_RETURN_BYTEA_P(bundle);
}

// colcrypt.import_keyring(bundle bytea) returns text: opens a bundle made
// for one of this database's transfer requests, rewraps its keys under the
// local master key (data keys decrypt-only) and returns the keyring's name.
extern "C" Datum colcrypt_import_keyring(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("import_keyring");
    bytea *bundle_arg = PG_GETARG_BYTEA_PP(0);
    const auto *bundle = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(bundle_arg));
    std::size_t bundle_size = VARSIZE_ANY_EXHDR(bundle_arg);
    std::uint8_t transfer_id[core::kTransferIdSize];
    if (cpp_try({core::Errc::malformed_value, core::Errc::unsupported_format},
                [&] { core::bundle_transfer_id(bundle, bundle_size, transfer_id); }))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("not a colcrypt keyring bundle"),
                        errdetail("A bundle is what colcrypt.export_keyring() returns on the source database."),
                        errhint("Pass the bundle unchanged, as bytea.")));

    char *id_hex = transfer_id_hex(transfer_id);
    catalog::TransferRequestRow request;
    catalog::lock_transfer_request(transfer_id, &request);
    if (!request.found)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("keyring bundle was made for transfer %s, which this database did not ask for", id_hex),
                        errdetail("This database accepts only bundles made for a recipient that "
                                  "colcrypt.transfer_key() returned here."),
                        errhint("Run SELECT colcrypt.transfer_key() on this database, then export the keyring again "
                                "on the source for the recipient it returns.")));
    if (request.used)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("transfer %s was already used", id_hex),
                        errdetail("It imported keyring \"%s\"; a transfer's private key is destroyed when it is used.",
                                  request.imported_keyring),
                        errhint("Run colcrypt.transfer_key() again for another transfer.")));
    core::MasterKey &master = master_key();
    if (strcmp(request.fingerprint, master.fingerprint()) != 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("master key does not match transfer %s", id_hex),
                        errdetail("Its private key was wrapped by master key %s; the server has master key %s.",
                                  request.fingerprint, master.fingerprint()),
                        errhint("Run colcrypt.transfer_key() again under the current master key.")));

    ImportedKeyring imported;
    std::memset(&imported, 0, sizeof imported);
    enum class Stage { private_key, bundle, done } stage = Stage::private_key;
    std::optional<CaughtError> failed = cpp_try(
        {core::Errc::authentication_failed, core::Errc::malformed_value, core::Errc::unsupported_format}, [&] {
            core::SecretKey private_key = master.unwrap_transfer_key(transfer_id, request.wrapped, request.wrapped_size);
            stage = Stage::bundle;
            core::KeyringPayload payload = core::open_bundle(bundle, bundle_size, private_key);
            stage = Stage::done;
            catalog::KeyringIdentity &identity = imported.identity;
            identity.keyring_id = (std::int32_t) payload.keyring_id;
            std::memcpy(identity.name, payload.name.data(), payload.name.size());  // at most 63 bytes, checked
            std::memcpy(identity.uuid, payload.uuid, sizeof identity.uuid);
            identity.term_bits = payload.term_bits;
            identity.case_insensitive = payload.case_insensitive;
            identity.index_order = payload.index_order;
            identity.version_start = payload.recipient_range.start;
            identity.version_end = payload.recipient_range.end;
            std::memcpy(imported.source_fingerprint, payload.source_fingerprint, sizeof imported.source_fingerprint);
            imported.index_version = (std::int32_t) payload.index_key.version;
            master.wrap(payload.keyring_id, core::KeyPurpose::index, payload.index_key.version, payload.index_key.key,
                        imported.index_wrapped);
            imported.data_count = (int) payload.data_keys.size();
            pg_guard([&] {
                imported.data_versions = (std::int32_t *) palloc(sizeof(std::int32_t) * (imported.data_count + 1));
                imported.data_wrapped = (std::uint8_t(*)[core::kWrappedKeySize]) palloc(
                    core::kWrappedKeySize * (imported.data_count + 1));
            });
            for (int i = 0; i < imported.data_count; i++) {
                const core::TransferredKey &key = payload.data_keys[(std::size_t) i];
                imported.data_versions[i] = (std::int32_t) key.version;
                master.wrap(payload.keyring_id, core::KeyPurpose::data, key.version, key.key, imported.data_wrapped[i]);
            }
        });
    if (failed && stage == Stage::private_key)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("the private key of transfer %s failed authentication", id_hex),
                        errdetail("The wrapped key in colcrypt.transfer_requests was altered."),
                        errhint("Run colcrypt.transfer_key() again for another transfer.")));
    if (failed && failed->code == core::Errc::authentication_failed)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("keyring bundle for transfer %s failed authentication", id_hex),
                        errdetail("The bundle was altered, or it was sealed for another recipient than the one "
                                  "transfer %s returned.",
                                  id_hex),
                        errhint("Export the keyring again on the source for this transfer's recipient, and pass "
                                "the bundle unchanged.")));
    if (failed)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("keyring bundle for transfer %s authenticates but its content is not valid", id_hex),
                        errdetail("It was not made by colcrypt.export_keyring().")));

    catalog::KeyringIdentity &identity = imported.identity;
    identity.typmod = keyring_typmod_for_name(identity.name);
    char *importer = GetUserNameFromId(actor.current_user, false);
    catalog::lock_keyrings_for_create();
    bool reimport = check_identity(identity);
    if (!reimport) {
        catalog::insert_imported_keyring(identity, importer);
        catalog::insert_key_version_in_state(identity.keyring_id, core::KeyPurpose::index, imported.index_version,
                                             "active", imported.index_wrapped, master.fingerprint());
        // Comparisons order by the bundle's index key, the one its data
        // versions are bound to.
        catalog::set_order_index_version(identity.keyring_id, imported.index_version);
    } else if (!catalog::key_version_exists(identity.keyring_id, core::KeyPurpose::index, imported.index_version)) {
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring bundle for transfer %s carries another blind-index key than keyring \"%s\" "
                               "has here",
                               id_hex, identity.name),
                        errdetail("The bundle's index key is version %d.", imported.index_version),
                        errhint("Drop the keyring's columns and keys here and import the bundle as a new keyring, "
                                "or export it again from the database it came from.")));
    }
    StringInfoData added;
    initStringInfo(&added);
    for (int i = 0; i < imported.data_count; i++) {
        if (catalog::key_version_exists(identity.keyring_id, core::KeyPurpose::data, imported.data_versions[i]))
            continue;
        catalog::insert_key_version_in_state(identity.keyring_id, core::KeyPurpose::data, imported.data_versions[i],
                                             "decrypt_only", imported.data_wrapped[i], master.fingerprint());
        appendStringInfo(&added, "%s%d", added.len > 0 ? ", " : "", imported.data_versions[i]);
    }
    bool encrypt_public = false;
    if (!reimport) {
        (void) catalog::insert_decrypt_grant(identity.keyring_id, actor.current_user, importer);
        encrypt_public = catalog::insert_encrypt_grant(identity.keyring_id, InvalidOid, importer);
    }
    catalog::mark_transfer_request_used(transfer_id, identity.name);
    invalidate_key_caches();
    if (reimport && added.len == 0)
        ereport(NOTICE, (errmsg("keyring \"%s\" already has every key version of the bundle", identity.name)));

    catalog::KeyringIdentity here;
    catalog::keyring_identity(identity.keyring_id, &here);
    record_key_event(
        actor, KeyEvent::import_keyring, identity.name, 0, 0,
        psprintf("transfer %s from master key %s%s: data key versions %s added decrypt-only%s, rewrapped by master key "
                 "%s; this database makes versions %d to %d%s",
                 id_hex, imported.source_fingerprint, reimport ? " (re-import)" : "",
                 added.len > 0 ? added.data : "(none)",
                 reimport ? "" : psprintf(", blind-index key version %d", imported.index_version), master.fingerprint(),
                 here.version_start, here.version_end - 1,
                 reimport ? ""
                          : psprintf("; decryption granted to role \"%s\"%s", importer,
                                     encrypt_public ? ", encryption to PUBLIC" : "")));
    PG_RETURN_TEXT_P(cstring_to_text(identity.name));
}
