// The definition of every colcrypt setting.
#include "colcrypt/pg/compat/postgres.hpp"

#include <climits>

extern "C" {
#include "miscadmin.h"
#include "replication/walsender.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
}

#include "colcrypt/pg/config/gucs.hpp"

namespace colcrypt::pg {

char *guc_master_key_file = nullptr;
char *guc_master_key_command = nullptr;
bool guc_allow_core_dumps = false;
int guc_master_key_command_timeout = 30;
char *guc_previous_master_key_file = nullptr;
char *guc_previous_master_key_command = nullptr;
int guc_blind_index_bits = 64;
char *guc_default_key = nullptr;
int guc_nonce_budget = INT_MAX;
int guc_max_key_versions = 1024;
int guc_output_mode = static_cast<int>(OutputMode::plaintext);
int guc_reencrypt_batch_size = 1000;
int guc_reencrypt_naptime = 10;
int guc_reencrypt_cpu_percent = 25;
bool guc_reencrypt_worker = true;
bool guc_reencrypt_on_rotate = true;
bool guc_reencrypt_vacuum = true;

namespace {

const struct config_enum_entry output_mode_options[] = {
    {"plaintext", static_cast<int>(OutputMode::plaintext), false},
    {"ciphertext", static_cast<int>(OutputMode::ciphertext), false},
    {nullptr, 0, false},
};

bool check_blind_index_bits(int *newval, void **, GucSource) {
    if (*newval % 8 != 0) {
        GUC_check_errdetail("colcrypt.blind_index_bits must be a multiple of 8.");
        return false;
    }
    return true;
}

void define_master_key_gucs() {
    if (process_shared_preload_libraries_in_progress) {
        DefineCustomStringVariable(
            "colcrypt.master_key_file",
            "File holding the colcrypt master key (64 hex digits or 44 base64 characters).",
            "Empty means colcrypt_<data directory name>.key next to the data directory, generated on first start.",
            &guc_master_key_file, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
        DefineCustomStringVariable("colcrypt.master_key_command",
                                   "Shell command whose standard output is the colcrypt master key.",
                                   "When set, it is used instead of colcrypt.master_key_file.",
                                   &guc_master_key_command, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY, nullptr,
                                   nullptr, nullptr);
        DefineCustomIntVariable("colcrypt.max_key_versions",
                                "Data-key versions, over all databases, whose encryptions the server counts.",
                                "Each version that has encrypted takes a slot until it is retired; encryption "
                                "under a version without one is refused.",
                                &guc_max_key_versions, 1024, 16, 1 << 20, PGC_POSTMASTER, 0, nullptr, nullptr,
                                nullptr);
        DefineCustomBoolVariable("colcrypt.allow_core_dumps",
                                 "Allow server processes to write core dumps, which may contain key material.",
                                 "Off: colcrypt marks the server non-dumpable once the master key is loaded.",
                                 &guc_allow_core_dumps, false, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    }
    DefineCustomIntVariable("colcrypt.master_key_command_timeout",
                            "Seconds colcrypt.master_key_command and colcrypt.previous_master_key_command may run.",
                            "A command that does not finish in time is killed with every process it started; "
                            "the server does not start, or the master key rotation fails.",
                            &guc_master_key_command_timeout, 30, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomStringVariable("colcrypt.previous_master_key_file",
                               "File holding the previous master key, read by colcrypt.rotate_master_key().", nullptr,
                               &guc_previous_master_key_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr,
                               nullptr);
    DefineCustomStringVariable("colcrypt.previous_master_key_command",
                               "Command printing the previous master key, read by colcrypt.rotate_master_key().",
                               nullptr, &guc_previous_master_key_command, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
                               nullptr, nullptr, nullptr);
}

// Background re-encryption (docs/design/reencryption.md).
void define_reencrypt_gucs() {
    DefineCustomIntVariable("colcrypt.reencrypt_batch_size",
                            "Rows the re-encryption worker rewrites per transaction.",
                            "Each batch locks at most this many rows, for the length of one short transaction.",
                            &guc_reencrypt_batch_size, 1000, 1, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("colcrypt.reencrypt_naptime",
                            "Least pause of the re-encryption worker after each batch.",
                            "0 with colcrypt.reencrypt_cpu_percent = 100 runs batches back to back.",
                            &guc_reencrypt_naptime, 10, 0, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("colcrypt.reencrypt_cpu_percent",
                            "Share of one CPU the re-encryption worker may use: its throttle.",
                            "The worker pauses after each batch so that its own CPU time stays within this share, "
                            "however busy the machine is; 100 leaves only colcrypt.reencrypt_naptime.",
                            &guc_reencrypt_cpu_percent, 25, 1, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("colcrypt.reencrypt_worker", "Whether the background re-encryption worker runs.",
                             "Off: queued jobs wait (CALL colcrypt.reencrypt_now still works); a running worker "
                             "stops after its batch.",
                             &guc_reencrypt_worker, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("colcrypt.reencrypt_on_rotate",
                             "Whether colcrypt.rotate_key queues the re-encryption of the keyring's columns.",
                             nullptr, &guc_reencrypt_on_rotate, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("colcrypt.reencrypt_vacuum",
                             "Whether the re-encryption worker cleans up after a finished table.",
                             "On: VACUUM (ANALYZE) of the table, REINDEX INDEX CONCURRENTLY of its indexes that "
                             "still hold old envelopes, then the task is done and retire_key of the old version "
                             "can succeed.  Off: the table waits for vacuum.",
                             &guc_reencrypt_vacuum, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

}  // namespace

void define_gucs() {
    define_master_key_gucs();
    define_reencrypt_gucs();
    DefineCustomIntVariable("colcrypt.blind_index_bits",
                            "Size in bits of the blind-index term stored with each value of a new keyring.",
                            "A multiple of 8 from 0 (no index terms) to 256; fixed per keyring at creation. "
                            "Fewer bits leak less about equal values and give more false positives, "
                            "which colcrypt filters out by decrypting.",
                            &guc_blind_index_bits, 64, 0, 256, PGC_SUSET, 0, check_blind_index_bits, nullptr,
                            nullptr);
    DefineCustomEnumVariable("colcrypt.output_mode", "How encrypted columns are shown: plaintext or ciphertext.",
                             "ciphertext returns each value's authenticated envelope as text, which the input "
                             "accepts back as it is: the mode for backup, dump and replication roles.",
                             &guc_output_mode, static_cast<int>(OutputMode::plaintext), output_mode_options,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("colcrypt.default_key", "Keyring for encrypted columns declared without one.",
                               "Applied when the column is created; empty means such columns are refused.",
                               &guc_default_key, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("colcrypt.nonce_budget",
                            "Encryptions per data-key version after which the keyring rotates automatically.",
                            "Random 96-bit nonces allow at most 2^32 encryptions per key (NIST SP 800-38D). "
                            "At this count colcrypt rotates the keyring in a background worker; at twice this "
                            "count (at most 2^32 - 2^24) encryption under the version is refused.",
                            &guc_nonce_budget, INT_MAX, 100, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("colcrypt");
}

bool output_is_ciphertext() {
    return guc_output_mode == static_cast<int>(OutputMode::ciphertext) || am_walsender || HistoricSnapshotActive();
}

}  // namespace colcrypt::pg
