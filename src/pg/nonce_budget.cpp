// Encryption counters per data-key version: shared memory, reserved durably
// ahead of use, automatic rotation at colcrypt.nonce_budget.  See
// include/colcrypt/pg/nonce_budget.hpp.
#include "colcrypt/pg/postgres.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include "colcrypt/pg/key_events.hpp"
#include "colcrypt/pg/key_lifecycle.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/nonce_budget.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_nonce_counters);
PGDLLEXPORT void colcrypt_rotation_worker_main(Datum arg);
}

namespace colcrypt::pg {

int guc_nonce_budget = INT_MAX;

// One slot per (database, keyring, data-key version) that has encrypted.
struct NonceCounter {
    // Identity, written under the lock.
    Oid database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    bool in_use;
    // Encryptions so far: incremented before every encryption, so never
    // fewer than happened (a refused or failed one still counts).
    pg_atomic_uint64 count;
    // The durable bound: the counter file says this version may have
    // encrypted up to `reserved` values.  count may pass it only after a new
    // reservation has been written and fsync'd.
    pg_atomic_uint64 reserved;
    // Automatic rotation: whether a worker was launched and has not exited
    // yet, when, and at which count (0: never).
    pg_atomic_uint32 rotation_running;
    pg_atomic_uint64 rotation_launched_at;  // TimestampTz
    pg_atomic_uint64 rotation_requested_at;
};

namespace {

constexpr int kMaxCounters = 1024;
constexpr const char *kTrancheName = "colcrypt";
constexpr const char *kShmemName = "colcrypt nonce counters";
constexpr const char *kDirectory = "pg_colcrypt";
constexpr const char *kFile = "pg_colcrypt/nonce_counters";
constexpr const char *kTempFile = "pg_colcrypt/nonce_counters.tmp";
constexpr std::uint32_t kFileMagic = 0x434e4343;  // "CCNC"
constexpr std::uint32_t kFileFormat = 1;
constexpr std::uint64_t kMaxBlock = 100000;
// NIST SP 800-38D: at most 2^32 invocations of one key with random nonces.
// Refuse a safety margin before that, whatever the budget says.
constexpr std::uint64_t kAbsoluteLimit = (UINT64CONST(1) << 32) - (UINT64CONST(1) << 24);
// A rotation worker that has not finished after this long (it may be waiting
// for a lock, or never have started) does not stop another attempt.
constexpr long kRotationPatienceMs = 60 * 1000;

struct NonceShared {
    LWLock *lock;
    NonceCounter counters[kMaxCounters];
};

struct FileHeader {
    std::uint32_t magic;
    std::uint32_t format;
    std::uint32_t entries;
    std::uint32_t unused;
};

struct FileEntry {
    std::uint32_t database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint32_t unused;
    std::uint64_t reserved;
};

constexpr size_t kMaxFileSize = sizeof(FileHeader) + kMaxCounters * sizeof(FileEntry) + sizeof(pg_crc32c);

// What the rotation worker is asked to do, passed in bgw_extra.
struct RotationRequest {
    Oid database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint64_t count;
};
static_assert(sizeof(RotationRequest) <= BGW_EXTRALEN, "rotation request must fit in bgw_extra");

NonceShared *shared = nullptr;
shmem_startup_hook_type previous_shmem_startup_hook = nullptr;
#if PG_VERSION_NUM >= 150000
shmem_request_hook_type previous_shmem_request_hook = nullptr;
#endif

// Retired versions whose counters are released when the transaction commits.
struct PendingRelease {
    std::uint32_t keyring_id;
    std::uint32_t version;
};
constexpr int kMaxPendingReleases = 64;
PendingRelease pending_releases[kMaxPendingReleases];
int pending_release_count = 0;
bool xact_callback_registered = false;

std::uint64_t budget() {
    return (std::uint64_t) guc_nonce_budget;
}

std::uint64_t hard_limit() {
    return Min(2 * budget(), kAbsoluteLimit);
}

// Encryptions reserved per write of the counter file: large enough to make
// the write rare, small enough that a crash over-counts little.
std::uint64_t reservation_block() {
    return Max((std::uint64_t) 1, Min(kMaxBlock, budget() / 16));
}

// ---------------------------------------------------------------------------
// The counter file.
// ---------------------------------------------------------------------------

[[noreturn]] void report_bad_file(const char *problem) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("colcrypt nonce counter file \"%s\" is invalid", kFile),
                    errdetail("%s", problem),
                    errhint("Restore the file from a backup.  Deleting it resets every count to zero: then rotate "
                            "every keyring with colcrypt.rotate_key() so that no data key can exceed its budget.")));
    pg_unreachable();
}

// At startup, in the postmaster: counters resume at their last reservation.
void load_counters_file() {
    struct stat st;
    if (stat(kDirectory, &st) != 0) {
        if (errno != ENOENT || MakePGDirectory(kDirectory) != 0)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", kDirectory)));
        return;
    }
    (void) unlink(kTempFile);
    int fd = OpenTransientFile(kFile, O_RDONLY | PG_BINARY);
    if (fd < 0) {
        if (errno == ENOENT)
            return;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", kFile)));
    }
    char *buffer = (char *) palloc(kMaxFileSize + 1);
    ssize_t size = read(fd, buffer, kMaxFileSize + 1);
    int save_errno = errno;
    CloseTransientFile(fd);
    if (size < 0) {
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", kFile)));
    }
    FileHeader header;
    if ((size_t) size < sizeof(header) + sizeof(pg_crc32c))
        report_bad_file("The file is truncated.");
    std::memcpy(&header, buffer, sizeof(header));
    if (header.magic != kFileMagic || header.format != kFileFormat)
        report_bad_file("The file does not start with a known colcrypt header.");
    if (header.entries > kMaxCounters ||
        (size_t) size != sizeof(header) + header.entries * sizeof(FileEntry) + sizeof(pg_crc32c))
        report_bad_file("The file size does not match its number of entries.");
    size_t body = sizeof(header) + header.entries * sizeof(FileEntry);
    pg_crc32c expected, actual;
    std::memcpy(&expected, buffer + body, sizeof(expected));
    INIT_CRC32C(actual);
    COMP_CRC32C(actual, buffer, body);
    FIN_CRC32C(actual);
    if (!EQ_CRC32C(expected, actual))
        report_bad_file("The checksum does not match.");
    for (std::uint32_t i = 0; i < header.entries; i++) {
        FileEntry entry;
        std::memcpy(&entry, buffer + sizeof(header) + i * sizeof(FileEntry), sizeof(entry));
        NonceCounter &c = shared->counters[i];
        c.database = entry.database;
        c.keyring_id = entry.keyring_id;
        c.version = entry.version;
        c.in_use = true;
        // Everything reserved may have been used: resume after it.
        pg_atomic_write_u64(&c.count, entry.reserved);
        pg_atomic_write_u64(&c.reserved, entry.reserved);
    }
    pfree(buffer);
    if (header.entries > 0)
        ereport(LOG, (errmsg("colcrypt: loaded %u nonce counters from \"%s\"", header.entries, kFile)));
}

// Write every counter's reservation, with `extended` reserved up to
// new_reserved, to a temporary file and rename it into place durably.  The
// caller holds the lock exclusively.
void write_counters_file(NonceCounter *extended, std::uint64_t new_reserved) {
    char *buffer = (char *) palloc(kMaxFileSize);
    FileHeader header{kFileMagic, kFileFormat, 0, 0};
    size_t offset = sizeof(header);
    for (int i = 0; i < kMaxCounters; i++) {
        NonceCounter &c = shared->counters[i];
        if (!c.in_use)
            continue;
        FileEntry entry{c.database, c.keyring_id, c.version, 0,
                        &c == extended ? new_reserved : pg_atomic_read_u64(&c.reserved)};
        std::memcpy(buffer + offset, &entry, sizeof(entry));
        offset += sizeof(entry);
        header.entries++;
    }
    std::memcpy(buffer, &header, sizeof(header));
    pg_crc32c crc;
    INIT_CRC32C(crc);
    COMP_CRC32C(crc, buffer, offset);
    FIN_CRC32C(crc);
    std::memcpy(buffer + offset, &crc, sizeof(crc));
    offset += sizeof(crc);

    int fd = OpenTransientFile(kTempFile, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
    if (fd < 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not create file \"%s\": %m", kTempFile)));
    errno = 0;
    if (write(fd, buffer, offset) != (ssize_t) offset) {
        if (errno == 0)
            errno = ENOSPC;
        int save_errno = errno;
        CloseTransientFile(fd);
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not write file \"%s\": %m", kTempFile)));
    }
    if (pg_fsync(fd) != 0) {
        int save_errno = errno;
        CloseTransientFile(fd);
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not fsync file \"%s\": %m", kTempFile)));
    }
    if (CloseTransientFile(fd) != 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not close file \"%s\": %m", kTempFile)));
    (void) durable_rename(kTempFile, kFile, ERROR);
    pfree(buffer);
}

// Make encryption number n of c durable before it happens.
void reserve(NonceCounter *c, std::uint64_t n) {
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    if (n > pg_atomic_read_u64(&c->reserved)) {
        // Cover every increment made so far, by any backend, plus a block.
        std::uint64_t target = pg_atomic_read_u64(&c->count) + reservation_block();
        write_counters_file(c, target);
        pg_atomic_write_u64(&c->reserved, target);
    }
    LWLockRelease(shared->lock);
}

// ---------------------------------------------------------------------------
// Shared memory.
// ---------------------------------------------------------------------------

#if PG_VERSION_NUM >= 150000
void nonce_shmem_request() {
    if (previous_shmem_request_hook)
        previous_shmem_request_hook();
    RequestAddinShmemSpace(sizeof(NonceShared));
    RequestNamedLWLockTranche(kTrancheName, 1);
}
#endif

void nonce_shmem_startup() {
    if (previous_shmem_startup_hook)
        previous_shmem_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    shared = (NonceShared *) ShmemInitStruct(kShmemName, sizeof(NonceShared), &found);
    if (!found) {
        shared->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
        for (int i = 0; i < kMaxCounters; i++) {
            NonceCounter &c = shared->counters[i];
            c.database = InvalidOid;
            c.keyring_id = 0;
            c.version = 0;
            c.in_use = false;
            pg_atomic_init_u64(&c.count, 0);
            pg_atomic_init_u64(&c.reserved, 0);
            pg_atomic_init_u32(&c.rotation_running, 0);
            pg_atomic_init_u64(&c.rotation_launched_at, 0);
            pg_atomic_init_u64(&c.rotation_requested_at, 0);
        }
        load_counters_file();
    }
    LWLockRelease(AddinShmemInitLock);
}

NonceCounter *find_counter(Oid database, std::uint32_t keyring_id, std::uint32_t version) {
    for (int i = 0; i < kMaxCounters; i++) {
        NonceCounter &c = shared->counters[i];
        if (c.in_use && c.database == database && c.keyring_id == keyring_id && c.version == version)
            return &c;
    }
    return nullptr;
}

// Free the slots of databases that no longer exist.  Returns how many.
int reclaim_dropped_databases() {
    Oid databases[kMaxCounters];
    int n = 0;
    LWLockAcquire(shared->lock, LW_SHARED);
    for (int i = 0; i < kMaxCounters; i++)
        if (shared->counters[i].in_use)
            databases[n++] = shared->counters[i].database;
    LWLockRelease(shared->lock);
    // Catalog lookups outside the lock.
    int gone = 0;
    for (int i = 0; i < n; i++)
        if (databases[i] != InvalidOid && !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(databases[i])))
            databases[gone++] = databases[i];
    int freed = 0;
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    for (int i = 0; i < kMaxCounters; i++) {
        NonceCounter &c = shared->counters[i];
        for (int j = 0; j < gone && c.in_use; j++) {
            if (c.database == databases[j]) {
                c.in_use = false;
                freed++;
            }
        }
    }
    LWLockRelease(shared->lock);
    return freed;
}

void at_xact_end(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && pending_release_count > 0 && shared != nullptr) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        for (int i = 0; i < pending_release_count; i++) {
            NonceCounter *c = find_counter(MyDatabaseId, pending_releases[i].keyring_id, pending_releases[i].version);
            if (c != nullptr)
                c->in_use = false;
        }
        LWLockRelease(shared->lock);
    }
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        pending_release_count = 0;
}

// ---------------------------------------------------------------------------
// The budget.
// ---------------------------------------------------------------------------

// Returns whether the worker was registered.
bool launch_rotation_worker(const EncryptionKey &key, std::uint64_t n) {
    RotationRequest request{MyDatabaseId, key.keyring_id, key.key_version, n};
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "colcrypt", sizeof(worker.bgw_library_name));
    strlcpy(worker.bgw_function_name, "colcrypt_rotation_worker_main", sizeof(worker.bgw_function_name));
    snprintf(worker.bgw_name, sizeof(worker.bgw_name), "colcrypt key rotation of keyring \"%s\"", key.keyring_name);
    strlcpy(worker.bgw_type, "colcrypt key rotation", sizeof(worker.bgw_type));
    worker.bgw_main_arg = (Datum) 0;
    worker.bgw_notify_pid = 0;
    std::memcpy(worker.bgw_extra, &request, sizeof(request));
    if (!RegisterDynamicBackgroundWorker(&worker, nullptr)) {
        ereport(WARNING, (errmsg("colcrypt: could not start the automatic rotation of keyring \"%s\"", key.keyring_name),
                          errdetail("Key version %u has encrypted " UINT64_FORMAT " values; colcrypt.nonce_budget is %d.",
                                    key.key_version, n, guc_nonce_budget),
                          errhint("Raise max_worker_processes, or rotate now: SELECT colcrypt.rotate_key('%s');",
                                  key.keyring_name)));
        return false;
    }
    ereport(LOG, (errmsg("colcrypt: key version %u of keyring \"%s\" reached its nonce budget (" UINT64_FORMAT
                         " encryptions, colcrypt.nonce_budget = %d); starting automatic rotation",
                         key.key_version, key.keyring_name, n, guc_nonce_budget),
                  // The statement that was encrypting may hold plaintext literals.
                  errhidestmt(true)));
    return true;
}

void budget_reached(const EncryptionKey &key, NonceCounter *c, std::uint64_t n) {
    if (n > hard_limit())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("nonce budget of key version %u of keyring \"%s\" is exhausted", key.key_version,
                               key.keyring_name),
                        errdetail("The version has encrypted " UINT64_FORMAT " values; colcrypt refuses more than "
                                  UINT64_FORMAT " (colcrypt.nonce_budget is %d) because random nonces could repeat.",
                                  n - 1, hard_limit(), guc_nonce_budget),
                        errhint("Rotate the keyring: SELECT colcrypt.rotate_key('%s');  The automatic rotation did "
                                "not complete: see the server log.",
                                key.keyring_name)));
    // A standby cannot rotate (only casts in read-only queries encrypt
    // there); the primary rotates its own keys.
    if (RecoveryInProgress())
        return;
    // One worker at a time.  Retried while the version is still in use:
    // after the worker exited (it failed, or another rotation made its work
    // moot while this backend kept its old key) and some more encryptions,
    // or when it has not finished after a minute.
    TimestampTz now;
    if (pg_atomic_read_u32(&c->rotation_running) != 0) {
        now = GetCurrentTimestamp();
        TimestampTz launched = (TimestampTz) pg_atomic_read_u64(&c->rotation_launched_at);
        if (!TimestampDifferenceExceeds(launched, now, kRotationPatienceMs))
            return;
    } else {
        std::uint64_t requested = pg_atomic_read_u64(&c->rotation_requested_at);
        if (requested != 0 && n < requested + Max((std::uint64_t) 1, budget() / 16))
            return;
        now = GetCurrentTimestamp();
    }
    // Claim the attempt: one backend wins.
    std::uint64_t launched = pg_atomic_read_u64(&c->rotation_launched_at);
    if (!pg_atomic_compare_exchange_u64(&c->rotation_launched_at, &launched, (std::uint64_t) now))
        return;
    pg_atomic_write_u64(&c->rotation_requested_at, n);
    pg_atomic_write_u32(&c->rotation_running, 1);
    if (!launch_rotation_worker(key, n))
        pg_atomic_write_u32(&c->rotation_running, 0);
}

// In the worker, at exit however it ends: let backends try again if needed.
void rotation_worker_exit(int, Datum counter) {
    NonceCounter *c = (NonceCounter *) DatumGetPointer(counter);
    if (c != nullptr)
        pg_atomic_write_u32(&c->rotation_running, 0);
}

}  // namespace

void define_nonce_budget_gucs() {
    DefineCustomIntVariable("colcrypt.nonce_budget",
                            "Encryptions per data-key version after which the keyring rotates automatically.",
                            "Random 96-bit nonces allow at most 2^32 encryptions per key (NIST SP 800-38D). "
                            "At this count colcrypt rotates the keyring in a background worker; at twice this "
                            "count (at most 2^32 - 2^24) encryption under the version is refused.",
                            &guc_nonce_budget, INT_MAX, 100, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

void install_nonce_budget_hooks() {
#if PG_VERSION_NUM >= 150000
    previous_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = nonce_shmem_request;
#else
    RequestAddinShmemSpace(sizeof(NonceShared));
    RequestNamedLWLockTranche(kTrancheName, 1);
#endif
    previous_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = nonce_shmem_startup;
}

NonceCounter *nonce_counter_for(std::uint32_t keyring_id, std::uint32_t version) {
    if (shared == nullptr)
        return nullptr;
    LWLockAcquire(shared->lock, LW_SHARED);
    NonceCounter *c = find_counter(MyDatabaseId, keyring_id, version);
    LWLockRelease(shared->lock);
    if (c != nullptr)
        return c;

    for (int attempt = 0; attempt < 2; attempt++) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        c = find_counter(MyDatabaseId, keyring_id, version);
        if (c == nullptr) {
            for (int i = 0; i < kMaxCounters; i++) {
                if (!shared->counters[i].in_use) {
                    c = &shared->counters[i];
                    c->database = MyDatabaseId;
                    c->keyring_id = keyring_id;
                    c->version = version;
                    pg_atomic_write_u64(&c->count, 0);
                    pg_atomic_write_u64(&c->reserved, 0);
                    pg_atomic_write_u32(&c->rotation_running, 0);
                    pg_atomic_write_u64(&c->rotation_launched_at, 0);
                    pg_atomic_write_u64(&c->rotation_requested_at, 0);
                    c->in_use = true;
                    break;
                }
            }
        }
        LWLockRelease(shared->lock);
        if (c != nullptr || attempt > 0 || reclaim_dropped_databases() == 0)
            break;
    }
    if (c == nullptr)
        ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                        errmsg("colcrypt nonce counter table is full"),
                        errdetail("The server counts encryptions for at most %d data-key versions at a time, over "
                                  "all databases.",
                                  kMaxCounters),
                        errhint("Retire key versions that are no longer used with colcrypt.retire_key().")));
    return c;
}

void count_encryption(const EncryptionKey &key) {
    NonceCounter *c = key.counter;
    if (c == nullptr)
        return;
    std::uint64_t n = pg_atomic_add_fetch_u64(&c->count, 1);
    if (unlikely(n >= budget()))
        budget_reached(key, c, n);
    if (unlikely(n > pg_atomic_read_u64(&c->reserved)))
        reserve(c, n);
}

void release_nonce_counter_at_commit(std::uint32_t keyring_id, std::uint32_t version) {
    if (!xact_callback_registered) {
        RegisterXactCallback(at_xact_end, nullptr);
        xact_callback_registered = true;
    }
    // A counter not released only costs a slot until the database is
    // dropped: never an error.
    if (pending_release_count < kMaxPendingReleases)
        pending_releases[pending_release_count++] = PendingRelease{keyring_id, version};
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt._nonce_counters(): (keyring_id, version, encryptions) of this
// database's counters.
extern "C" Datum colcrypt_nonce_counters(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    if (shared == nullptr)
        return (Datum) 0;
    struct Row {
        std::uint32_t keyring_id;
        std::uint32_t version;
        std::uint64_t count;
    };
    Row *rows = (Row *) palloc(sizeof(Row) * kMaxCounters);
    int n = 0;
    LWLockAcquire(shared->lock, LW_SHARED);
    for (int i = 0; i < kMaxCounters; i++) {
        NonceCounter &c = shared->counters[i];
        if (c.in_use && c.database == MyDatabaseId)
            rows[n++] = Row{c.keyring_id, c.version, pg_atomic_read_u64(&c.count)};
    }
    LWLockRelease(shared->lock);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    for (int i = 0; i < n; i++) {
        Datum values[3] = {Int32GetDatum((int32) rows[i].keyring_id), Int32GetDatum((int32) rows[i].version),
                           Int64GetDatum((int64) rows[i].count)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

// The automatic rotation: a dynamic background worker connected to the
// database, rotating through the same code as colcrypt.rotate_key() in its
// own transaction.  It does nothing if the version that reached its budget
// is no longer the active one.
extern "C" void colcrypt_rotation_worker_main(Datum) {
    RotationRequest request;
    std::memcpy(&request, MyBgworkerEntry->bgw_extra, sizeof(request));
    // Registered first, so that even a failure to connect clears the flag.
    // Slots never move; a slot reused meanwhile only gets an early retry.
    NonceCounter *counter = nullptr;
    if (shared != nullptr) {
        LWLockAcquire(shared->lock, LW_SHARED);
        counter = find_counter(request.database, request.keyring_id, request.version);
        LWLockRelease(shared->lock);
    }
    before_shmem_exit(rotation_worker_exit, PointerGetDatum(counter));
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(request.database, InvalidOid, 0);

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "colcrypt automatic key rotation");
    KeyEventActor actor = current_actor();
    char *detail = psprintf("nonce budget reached: version %u had encrypted " UINT64_FORMAT
                            " values (colcrypt.nonce_budget = %d)",
                            request.version, request.count, guc_nonce_budget);
    std::int32_t version = rotate_data_key(nullptr, (std::int32_t) request.keyring_id, (std::int32_t) request.version,
                                           actor, key_event::auto_rotate, detail);
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (version == 0)
        ereport(LOG, (errmsg("colcrypt: key version %u of keyring %u is no longer active; no automatic rotation needed",
                             request.version, request.keyring_id)));
    proc_exit(0);
}
