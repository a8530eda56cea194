// colcrypt.rotate_master_key(): rewrap every key wrapped by the previous
// master key under the current one, in the caller's transaction.  No table
// data is rewritten: values are encrypted under data keys, which do not
// change; only their wrapping does.
//
// Procedure: the server is restarted with the new key in
// colcrypt.master_key_file (or _command) and the old one in
// colcrypt.previous_master_key_file (or _command); then this function runs
// once in each database that has the extension.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/internal_access.hpp"
#include "colcrypt/pg/key_events.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/master_key_provider.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_rotate_master_key);
}

namespace colcrypt::pg {
namespace {

// One row of colcrypt.key_versions with a wrapped key: plain data, filled
// by PostgreSQL code.
struct WrappedRow {
    std::int32_t keyring_id;
    bool index;
    std::int32_t version;
    std::uint8_t wrapped[core::kWrappedKeySize];
    size_t wrapped_size;
    char fingerprint[core::kFingerprintHexSize + 1];
    char keyring[NAMEDATALEN];
    bool rewrap;  // wrapped by the previous master key
    std::uint8_t rewrapped[core::kWrappedKeySize];
};

// Unwrap every row marked rewrap with the previous key and wrap it with the
// current one, into rewrapped.  Nothing is written.  Returns the index of the
// first row that fails to unwrap, or -1.
long rewrap_rows(core::MasterKey &current, core::MasterKey &previous, WrappedRow *rows, long count) {
    return cpp_guard([&]() -> long {
        for (long i = 0; i < count; i++) {
            WrappedRow &row = rows[i];
            if (!row.rewrap)
                continue;
            core::KeyPurpose purpose = row.index ? core::KeyPurpose::index : core::KeyPurpose::data;
            try {
                core::SecretKey key = previous.unwrap((std::uint32_t) row.keyring_id, purpose,
                                                      (std::uint32_t) row.version, row.wrapped, row.wrapped_size);
                current.wrap((std::uint32_t) row.keyring_id, purpose, (std::uint32_t) row.version, key,
                             row.rewrapped);
            } catch (const core::Error &e) {
                if (e.code() == core::Errc::authentication_failed || e.code() == core::Errc::malformed_value)
                    return i;
                throw;
            }
        }
        return -1;
    });
}

std::int32_t rotate_master_key(core::MasterKey &current, core::MasterKey &previous, const KeyEventActor &actor) {
    const char *current_fp = current.fingerprint();
    const char *previous_fp = previous.fingerprint();
    if (std::strcmp(current_fp, previous_fp) == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the previous master key is the current master key (fingerprint %s)", current_fp),
                        errhint("Start the server with the new key in colcrypt.master_key_file (or _command) and "
                                "the old one in colcrypt.previous_master_key_file (or _command).")));

    InternalAccess access;
    begin_internal_access(&access);
    // Keeps key creation, rotation and retirement out until we commit;
    // readers are not blocked.
    run_internal_query("LOCK TABLE colcrypt.key_versions IN EXCLUSIVE MODE", 0, nullptr, SPI_OK_UTILITY);
    run_internal_locking_query("SELECT v.keyring_id, v.purpose = 'index', v.version, v.wrapped_key,"
                               "       v.master_key_fingerprint, k.name"
                               "  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)"
                               " WHERE v.wrapped_key IS NOT NULL"
                               " ORDER BY k.name, v.purpose, v.version",
                               0, nullptr, nullptr, SPI_OK_SELECT);
    long count = (long) SPI_processed;
    WrappedRow *rows = (WrappedRow *) palloc0(sizeof(WrappedRow) * (count + 1));
    for (long i = 0; i < count; i++) {
        WrappedRow &row = rows[i];
        bool isnull;
        row.keyring_id = result_int(i, 1);
        row.index = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
        row.version = result_int(i, 3);
        row.wrapped_size = result_bytes(i, 4, row.wrapped, sizeof(row.wrapped));
        result_text(i, 5, row.fingerprint, sizeof(row.fingerprint));
        result_text(i, 6, row.keyring, sizeof(row.keyring));
    }

    // Every wrapped key must be under the previous or the current master
    // key: anything else means the previous key given is not the one that
    // wrapped them.  Checked before anything changes.
    std::int32_t to_rewrap = 0;
    for (long i = 0; i < count; i++) {
        WrappedRow &row = rows[i];
        if (std::strcmp(row.fingerprint, current_fp) == 0)
            continue;
        if (std::strcmp(row.fingerprint, previous_fp) != 0)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("previous master key does not match keyring \"%s\"", row.keyring),
                            errdetail("Its %s key version %d is wrapped by master key %s; the previous master key "
                                      "is %s and the current one %s.  Nothing was changed.",
                                      row.index ? "blind-index" : "data", row.version, row.fingerprint,
                                      previous_fp, current_fp),
                            errhint("Set colcrypt.previous_master_key_file (or _command) to the master key with "
                                    "fingerprint %s and reload the configuration.",
                                    row.fingerprint)));
        row.rewrap = true;
        to_rewrap++;
    }
    long failed = rewrap_rows(current, previous, rows, count);
    if (failed >= 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("%s key version %d of keyring \"%s\" failed authentication with the previous master key",
                               rows[failed].index ? "blind-index" : "data", rows[failed].version, rows[failed].keyring),
                        errdetail("Its fingerprint says master key %s wrapped it, but the wrapped key was altered.  "
                                  "Nothing was changed.",
                                  previous_fp),
                        errhint("Restore colcrypt.key_versions from a backup.")));

    for (long i = 0; i < count; i++) {
        WrappedRow &row = rows[i];
        if (!row.rewrap)
            continue;
        Oid types[] = {INT4OID, TEXTOID, INT4OID, BYTEAOID, TEXTOID};
        Datum values[] = {Int32GetDatum(row.keyring_id), CStringGetTextDatum(row.index ? "index" : "data"),
                          Int32GetDatum(row.version), bytea_param(row.rewrapped, sizeof(row.rewrapped)),
                          CStringGetTextDatum(current_fp)};
        run_internal_query_typed("UPDATE colcrypt.key_versions SET wrapped_key = $4, master_key_fingerprint = $5"
                                 " WHERE keyring_id = $1 AND purpose = $2 AND version = $3",
                                 5, types, values, SPI_OK_UPDATE);
    }
    end_internal_access(&access);

    if (to_rewrap == 0) {
        ereport(NOTICE, (errmsg("every key is already wrapped by the current master key %s", current_fp)));
        return 0;
    }
    invalidate_key_caches();
    record_key_event(actor, key_event::rotate_master_key, nullptr, 0, 0,
                     psprintf("%d key%s rewrapped from master key %s to master key %s", to_rewrap,
                              to_rewrap == 1 ? "" : "s", previous_fp, current_fp));
    return to_rewrap;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.rotate_master_key() returns int: the number of keys rewrapped.
extern "C" Datum colcrypt_rotate_master_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = current_actor();
    colcrypt::core::MasterKey &current = master_key();
    // Owned here and deleted (which wipes it) however the rotation ends.  A
    // raw pointer, not an object with a destructor in this frame, so the
    // PG_TRY longjmp skips nothing.
    colcrypt::core::MasterKey *volatile previous = load_previous_master_key();
    volatile std::int32_t rewrapped = 0;
    PG_TRY();
    {
        rewrapped = rotate_master_key(current, *previous, actor);
    }
    PG_FINALLY();
    {
        delete previous;
    }
    PG_END_TRY();
    PG_RETURN_INT32(rewrapped);
}
