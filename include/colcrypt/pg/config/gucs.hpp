// Every colcrypt setting (GUC): the variables PostgreSQL writes, and their
// definition.  The README's GUC table lists them with defaults and contexts.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Master key providers (postmaster; read once, in the postmaster).
extern char *guc_master_key_file;
extern char *guc_master_key_command;
extern bool guc_allow_core_dumps;
// Seconds a key command may take before it is killed (reload).
extern int guc_master_key_command_timeout;
// The key being replaced, read by colcrypt.rotate_master_key() (reload).
extern char *guc_previous_master_key_file;
extern char *guc_previous_master_key_command;

// Index-term size of keyrings created from now on (superuser).
extern int guc_blind_index_bits;
// Keyring for encrypted columns declared without one.
extern char *guc_default_key;
// Encryptions per data-key version before automatic rotation (reload).
extern int guc_nonce_budget;
// Data-key versions whose encryptions the server counts (postmaster).
extern int guc_max_key_versions;

// Background re-encryption: rows per batch, pause after each (ms), whether
// the worker runs (reload), whether rotate_key queues a job (superuser).
extern int guc_reencrypt_batch_size;
extern int guc_reencrypt_naptime;
extern int guc_reencrypt_cpu_percent;
extern bool guc_reencrypt_worker;
extern bool guc_reencrypt_on_rotate;
extern bool guc_reencrypt_vacuum;

// How output shows encrypted values (colcrypt.output_mode).
enum class OutputMode { plaintext, ciphertext };
extern int guc_output_mode;
// Whether output shows envelopes: colcrypt.output_mode is ciphertext, or
// the output is for replication, whatever the role's setting: logical
// decoding (output and send functions run under a historic snapshot, in a
// walsender or in pg_logical_slot_get_changes()) and anything a walsender
// sends, such as a subscription's initial table copy.  Replication then
// carries envelopes, decrypts nothing, and needs no decrypt grant; the
// subscriber stores them as they are.
bool output_is_ciphertext();

// Define them all, and reserve the "colcrypt." prefix.  Postmaster-only
// settings are defined only while shared_preload_libraries is processed:
// a backend that loads the library later must not define them.
void define_gucs();

}  // namespace colcrypt::pg
