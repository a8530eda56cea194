// colcrypt.rotate_master_key(): rewrap every key wrapped by the previous
// master key under the current one, in the caller's transaction.  No table
// data is rewritten: values are encrypted under data keys, which do not
// change; only their wrapping does.
//
// Procedure: the server is restarted with the new key in
// colcrypt.master_key_file (or _command) and the old one in
// colcrypt.previous_master_key_file (or _command); then this function runs
// once in each database that has the extension.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
#include "utils/memutils.h"
}

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_rotate_master_key);
}

namespace colcrypt::pg {
namespace {

const char *purpose_word(core::KeyPurpose purpose) {
    return purpose == core::KeyPurpose::index ? "blind-index" : "data";
}

// Unwrap every row marked in `rewrap` with the previous key and wrap it with
// the current one, into rewrapped[i].  Nothing is written.  Returns the
// index of the first row that fails to unwrap, or -1.
long rewrap_rows(core::MasterKey &current, core::MasterKey &previous, const catalog::StoredKeyRow *rows,
                 const bool *rewrap, std::uint8_t (*rewrapped)[core::kWrappedKeySize], long count) {
    long failed = -1;
    for (long i = 0; i < count && failed < 0; i++) {
        if (!rewrap[i])
            continue;
        const catalog::StoredKeyRow &row = rows[i];
        std::optional<CaughtError> damaged =
            cpp_try({core::Errc::authentication_failed, core::Errc::malformed_value}, [&] {
                core::SecretKey key = previous.unwrap((std::uint32_t) row.keyring_id, row.purpose,
                                                      (std::uint32_t) row.version, row.wrapped, row.wrapped_size);
                current.wrap((std::uint32_t) row.keyring_id, row.purpose, (std::uint32_t) row.version, key,
                             rewrapped[i]);
            });
        if (damaged)
            failed = i;
    }
    return failed;
}

std::int32_t rotate_master_key(core::MasterKey &current, core::MasterKey &previous, const KeyEventActor &actor) {
    const char *current_fp = current.fingerprint();
    const char *previous_fp = previous.fingerprint();
    if (std::strcmp(current_fp, previous_fp) == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the previous master key is the current master key (fingerprint %s)", current_fp),
                        errhint("Start the server with the new key in colcrypt.master_key_file (or _command) and "
                                "the old one in colcrypt.previous_master_key_file (or _command).")));

    catalog::lock_key_versions();
    long count;
    catalog::StoredKeyRow *rows = catalog::stored_keys(&count);
    bool *rewrap = (bool *) palloc0(sizeof(bool) * (count + 1));
    auto *rewrapped = (std::uint8_t(*)[core::kWrappedKeySize]) palloc0(core::kWrappedKeySize * (count + 1));

    // Every wrapped key must be under the previous or the current master
    // key: anything else means the previous key given is not the one that
    // wrapped them.  Checked before anything changes.
    std::int32_t to_rewrap = 0;
    for (long i = 0; i < count; i++) {
        const catalog::StoredKeyRow &row = rows[i];
        if (std::strcmp(row.fingerprint, current_fp) == 0)
            continue;
        if (std::strcmp(row.fingerprint, previous_fp) != 0)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("previous master key does not match keyring \"%s\"", row.keyring),
                            errdetail("Its %s key version %d is wrapped by master key %s; the previous master key "
                                      "is %s and the current one %s.  Nothing was changed.",
                                      purpose_word(row.purpose), row.version, row.fingerprint, previous_fp,
                                      current_fp),
                            errhint("Set colcrypt.previous_master_key_file (or _command) to the master key with "
                                    "fingerprint %s and reload the configuration.",
                                    row.fingerprint)));
        rewrap[i] = true;
        to_rewrap++;
    }
    long failed = rewrap_rows(current, previous, rows, rewrap, rewrapped, count);
    if (failed >= 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("%s key version %d of keyring \"%s\" failed authentication with the previous master key",
                               purpose_word(rows[failed].purpose), rows[failed].version, rows[failed].keyring),
                        errdetail("Its fingerprint says master key %s wrapped it, but the wrapped key was altered.  "
                                  "Nothing was changed.",
                                  previous_fp),
                        errhint("Restore colcrypt.key_versions from a backup.")));

    for (long i = 0; i < count; i++)
        if (rewrap[i])
            catalog::update_wrapped_key(rows[i].keyring_id, rows[i].purpose, rows[i].version, rewrapped[i],
                                        current_fp);

    if (to_rewrap == 0) {
        ereport(NOTICE, (errmsg("every key is already wrapped by the current master key %s", current_fp)));
        return 0;
    }
    invalidate_key_caches();
    record_key_event(actor, KeyEvent::rotate_master_key, nullptr, 0, 0,
                     psprintf("%d key%s rewrapped from master key %s to master key %s", to_rewrap,
                              to_rewrap == 1 ? "" : "s", previous_fp, current_fp));
    return to_rewrap;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.rotate_master_key() returns int: the number of keys rewrapped.
extern "C" Datum colcrypt_rotate_master_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("rotate_master_key");
    colcrypt::core::MasterKey &current = master_key();
    // The previous key belongs to a context of its own: deleting it (here,
    // or with its parent when the transaction aborts) wipes the key.
    MemoryContext previous_context =
        AllocSetContextCreate(CurrentMemoryContext, "colcrypt previous master key", ALLOCSET_SMALL_SIZES);
    colcrypt::core::MasterKey *previous = load_previous_master_key(previous_context);
    std::int32_t rewrapped = rotate_master_key(current, *previous, actor);
    MemoryContextDelete(previous_context);
    PG_RETURN_INT32(rewrapped);
}
