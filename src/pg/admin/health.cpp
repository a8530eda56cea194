// colcrypt.stats and colcrypt.health(): what a monitoring system reads.
// The usage counters come from state/usage_stats.hpp; the health checks
// read the key tables (through keys/catalog.hpp, as their owner) and the
// shared state, and never show key material.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"
#include "colcrypt/pg/state/nonce_counters.hpp"
#include "colcrypt/pg/state/usage_stats.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_usage_stats);
PG_FUNCTION_INFO_V1(colcrypt_stats_reset);
PG_FUNCTION_INFO_V1(colcrypt_health);
}

using namespace colcrypt::pg;

namespace {

ReturnSetInfo *begin_rows(FunctionCallInfo fcinfo) {
    InitMaterializedSRF(fcinfo, 0);
    return (ReturnSetInfo *) fcinfo->resultinfo;
}

// One row of colcrypt.health(): check, status (ok, warning, error), detail.
void health_row(ReturnSetInfo *rsinfo, const char *check, const char *status, const char *detail) {
    Datum values[3] = {CStringGetTextDatum(check), CStringGetTextDatum(status), CStringGetTextDatum(detail)};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

const char *purpose_word(colcrypt::core::KeyPurpose purpose) {
    return purpose == colcrypt::core::KeyPurpose::index ? "blind-index" : "data";
}

// The master key is loaded, and every key that is not retired is wrapped
// by it and unwraps (a key rotated to another master key, or a damaged
// wrapped key, shows here before a query fails on it).
void check_keys(ReturnSetInfo *rsinfo) {
    const char *fingerprint = loaded_master_key_fingerprint();
    if (fingerprint == nullptr) {
        health_row(rsinfo, "master key", "error", "no master key is loaded: add colcrypt to shared_preload_libraries");
        health_row(rsinfo, "keys", "error", "cannot be checked without the master key");
        return;
    }
    health_row(rsinfo, "master key", "ok", psprintf("loaded, fingerprint %s", fingerprint));
    colcrypt::core::MasterKey &master = master_key();
    long count;
    catalog::StoredKeyRow *rows = catalog::stored_keys(&count);
    StringInfoData problems;
    initStringInfo(&problems);
    int bad = 0;
    for (long i = 0; i < count; i++) {
        const catalog::StoredKeyRow &row = rows[i];
        const char *problem = nullptr;
        if (std::strcmp(row.fingerprint, fingerprint) != 0) {
            problem = psprintf("wrapped by master key %s", row.fingerprint);
        } else {
            std::optional<CaughtError> damaged =
                cpp_try({colcrypt::core::Errc::authentication_failed, colcrypt::core::Errc::malformed_value}, [&] {
                    colcrypt::core::SecretKey key = master.unwrap((std::uint32_t) row.keyring_id, row.purpose,
                                                                  (std::uint32_t) row.version, row.wrapped,
                                                                  row.wrapped_size);
                });
            if (damaged)
                problem = "does not unwrap (damaged)";
        }
        if (problem != nullptr) {
            appendStringInfo(&problems, "%skeyring \"%s\" %s key version %d %s", bad > 0 ? "; " : "", row.keyring,
                             purpose_word(row.purpose), row.version, problem);
            bad++;
        }
    }
    if (bad == 0)
        health_row(rsinfo, "keys", "ok", psprintf("%ld keys unwrap with the loaded master key", count));
    else
        health_row(rsinfo, "keys", "error", problems.data);
}

// The launcher runs (on a primary; a standby runs no colcrypt worker).
void check_launcher(ReturnSetInfo *rsinfo) {
    if (RecoveryInProgress()) {
        health_row(rsinfo, "launcher", "ok", "in recovery: colcrypt's workers start after promotion");
        return;
    }
    if (launcher_is_running())
        health_row(rsinfo, "launcher", "ok", "running");
    else
        health_row(rsinfo, "launcher", "error",
                   "not running: is colcrypt in shared_preload_libraries, and is there room in max_worker_processes?");
}

// How much of its nonce budget each active data-key version has used.
void check_nonce_budget(ReturnSetInfo *rsinfo) {
    int count;
    NonceCount *counts = nonce_counts(&count);
    std::uint64_t budget = (std::uint64_t) guc_nonce_budget;
    std::uint64_t most = 0;
    for (int i = 0; i < count; i++)
        most = Max(most, counts[i].encryptions);
    double used = budget > 0 ? (double) most / (double) budget : 0.0;
    char *detail = psprintf("the most used data-key version has used %.1f%% of colcrypt.nonce_budget", used * 100.0);
    // At the budget a rotation is requested; one still pending at 110% is stuck.
    health_row(rsinfo, "nonce budget", used < 0.9 ? "ok" : used < 1.1 ? "warning" : "error", detail);
}

void check_statistics(ReturnSetInfo *rsinfo) {
    if (usage_table_overflowed())
        health_row(rsinfo, "statistics", "warning",
                   "colcrypt.stats is full: raise colcrypt.max_key_versions to count every keyring");
    else
        health_row(rsinfo, "statistics", "ok", "every keyring is counted");
}

}  // namespace

// colcrypt._usage_stats(): keyring id, encryptions, decryptions, failures, since.
extern "C" Datum colcrypt_usage_stats(PG_FUNCTION_ARGS) {
    ReturnSetInfo *rsinfo = begin_rows(fcinfo);
    int count;
    UsageRow *rows = usage_rows(&count);
    for (int i = 0; i < count; i++) {
        Datum values[5] = {Int32GetDatum((int32) rows[i].keyring_id), Int64GetDatum((int64) rows[i].encryptions),
                           Int64GetDatum((int64) rows[i].decryptions), Int64GetDatum((int64) rows[i].failures),
                           TimestampTzGetDatum(rows[i].since)};
        bool nulls[5] = {false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

// colcrypt.stats_reset() returns timestamptz: zero this database's counts.
extern "C" Datum colcrypt_stats_reset(PG_FUNCTION_ARGS) {
    reset_usage();
    PG_RETURN_TIMESTAMPTZ(GetCurrentTimestamp());
}

// colcrypt.health(): one row per check.
extern "C" Datum colcrypt_health(PG_FUNCTION_ARGS) {
    ReturnSetInfo *rsinfo = begin_rows(fcinfo);
    check_keys(rsinfo);
    check_launcher(rsinfo);
    check_nonce_budget(rsinfo);
    check_statistics(rsinfo);
    return (Datum) 0;
}
