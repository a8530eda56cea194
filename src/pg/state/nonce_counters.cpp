// Encryption counters per data-key version in shared memory, reserved
// durably ahead of use; rotation requested at colcrypt.nonce_budget.  See
// include/colcrypt/pg/state/nonce_counters.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

#include "colcrypt/core/nonce_budget.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/state/counter_file.hpp"
#include "colcrypt/pg/state/nonce_counters.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"

namespace colcrypt::pg {
namespace {

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
    // The count when a rotation was last requested (0: never).
    pg_atomic_uint64 last_rotation_request;
};

struct NonceCounters {
    LWLock *lock;
    // Bumped whenever a slot is freed, so that backends drop the slot
    // pointers they remember (a freed slot may be taken by another version).
    pg_atomic_uint64 release_generation;
    // Set when a slot was freed and the counter file still lists it; the
    // launcher rewrites the file (persist_released_counters).
    pg_atomic_uint32 file_lists_freed;
    int size;  // colcrypt.max_key_versions when the server started
    NonceCounter counters[FLEXIBLE_ARRAY_MEMBER];
};

NonceCounters *shared = nullptr;

core::NonceBudget budget() {
    return core::NonceBudget((std::uint64_t) guc_nonce_budget);
}

// ---------------------------------------------------------------------------
// The counter file.
// ---------------------------------------------------------------------------

// At startup, in the postmaster: counters resume at their last reservation.
void load_counters() {
    int count;
    CounterFileEntry *entries = read_counter_file(shared->size, &count);
    for (int i = 0; i < count; i++) {
        NonceCounter &c = shared->counters[i];
        c.database = entries[i].database;
        c.keyring_id = entries[i].keyring_id;
        c.version = entries[i].version;
        c.in_use = true;
        // Everything reserved may have been used: resume after it.
        pg_atomic_write_u64(&c.count, entries[i].reserved);
        pg_atomic_write_u64(&c.reserved, entries[i].reserved);
    }
    if (count > 0)
        ereport(LOG, (errmsg("colcrypt: loaded %d nonce counters from \"pg_colcrypt/nonce_counters\"", count)));
}

// Write every counter's reservation, with `extended` reserved up to
// new_reserved.  The caller holds the lock exclusively.
void write_counters(NonceCounter *extended, std::uint64_t new_reserved) {
    auto *entries = (CounterFileEntry *) palloc(sizeof(CounterFileEntry) * shared->size);
    int count = 0;
    for (int i = 0; i < shared->size; i++) {
        NonceCounter &c = shared->counters[i];
        if (!c.in_use)
            continue;
        entries[count++] = CounterFileEntry{c.database, c.keyring_id, c.version,
                                            &c == extended ? new_reserved : pg_atomic_read_u64(&c.reserved)};
    }
    write_counter_file(entries, count);
    pfree(entries);
}

// Make encryption number n of c durable before it happens.
void reserve(NonceCounter *c, std::uint64_t n) {
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    if (n > pg_atomic_read_u64(&c->reserved)) {
        // Cover every increment made so far, by any backend, plus a block.
        std::uint64_t target = budget().next_reservation(pg_atomic_read_u64(&c->count));
        write_counters(c, target);
        pg_atomic_write_u64(&c->reserved, target);
    }
    LWLockRelease(shared->lock);
}

// ---------------------------------------------------------------------------
// Finding a version's slot.
// ---------------------------------------------------------------------------

NonceCounter *find_counter(Oid database, std::uint32_t keyring_id, std::uint32_t version) {
    for (int i = 0; i < shared->size; i++) {
        NonceCounter &c = shared->counters[i];
        if (c.in_use && c.database == database && c.keyring_id == keyring_id && c.version == version)
            return &c;
    }
    return nullptr;
}

void free_slot(NonceCounter &c) {
    c.in_use = false;
    pg_atomic_fetch_add_u64(&shared->release_generation, 1);
    pg_atomic_write_u32(&shared->file_lists_freed, 1);
}

// Free the slots of databases that no longer exist.  Returns how many.
int reclaim_dropped_databases() {
    Oid *databases = (Oid *) palloc(sizeof(Oid) * shared->size);
    int n = 0;
    LWLockAcquire(shared->lock, LW_SHARED);
    for (int i = 0; i < shared->size; i++)
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
    for (int i = 0; i < shared->size; i++) {
        NonceCounter &c = shared->counters[i];
        for (int j = 0; j < gone && c.in_use; j++) {
            if (c.database == databases[j]) {
                free_slot(c);
                freed++;
            }
        }
    }
    LWLockRelease(shared->lock);
    pfree(databases);
    return freed;
}

// The slot of (this database, keyring_id, version), taken when missing.
NonceCounter *counter_slot(std::uint32_t keyring_id, std::uint32_t version) {
    LWLockAcquire(shared->lock, LW_SHARED);
    NonceCounter *c = find_counter(MyDatabaseId, keyring_id, version);
    LWLockRelease(shared->lock);
    if (c != nullptr)
        return c;

    for (int attempt = 0; attempt < 2; attempt++) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        c = find_counter(MyDatabaseId, keyring_id, version);
        for (int i = 0; c == nullptr && i < shared->size; i++) {
            NonceCounter &slot = shared->counters[i];
            if (!slot.in_use) {
                slot.database = MyDatabaseId;
                slot.keyring_id = keyring_id;
                slot.version = version;
                pg_atomic_write_u64(&slot.count, 0);
                pg_atomic_write_u64(&slot.reserved, 0);
                pg_atomic_write_u64(&slot.last_rotation_request, 0);
                slot.in_use = true;
                c = &slot;
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
                                  "all databases (colcrypt.max_key_versions).",
                                  shared->size),
                        errhint("Retire key versions that are no longer used with colcrypt.retire_key(), or raise "
                                "colcrypt.max_key_versions and restart the server.")));
    return c;
}

// The slots this backend used last: a column's values come one after
// another under one version, so most encryptions find theirs here without
// the lock.  Valid while no slot has been freed since they were found.
struct RememberedSlot {
    std::uint32_t keyring_id;
    std::uint32_t version;
    NonceCounter *counter;
};
constexpr int kRemembered = 8;
RememberedSlot remembered[kRemembered];
int next_remembered = 0;
std::uint64_t remembered_generation = 0;

NonceCounter *counter_for(std::uint32_t keyring_id, std::uint32_t version) {
    std::uint64_t generation = pg_atomic_read_u64(&shared->release_generation);
    if (generation != remembered_generation) {
        std::memset(remembered, 0, sizeof remembered);
        remembered_generation = generation;
    }
    for (const RememberedSlot &r : remembered)
        if (r.counter != nullptr && r.keyring_id == keyring_id && r.version == version)
            return r.counter;
    NonceCounter *c = counter_slot(keyring_id, version);
    remembered[next_remembered] = RememberedSlot{keyring_id, version, c};
    next_remembered = (next_remembered + 1) % kRemembered;
    return c;
}

// ---------------------------------------------------------------------------
// The budget.
// ---------------------------------------------------------------------------

void budget_reached(const core::NonceBudget &b, NonceCounter *c, std::uint32_t keyring_id, std::uint32_t version,
                    const char *keyring_name, std::uint64_t n) {
    if (b.refuses(n))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("nonce budget of key version %u of keyring \"%s\" is exhausted", version, keyring_name),
                        errdetail("The version has encrypted " UINT64_FORMAT " values; colcrypt refuses more than "
                                  UINT64_FORMAT " (colcrypt.nonce_budget is %d) because random nonces could repeat.",
                                  Min(n - 1, b.hard_limit()), b.hard_limit(), guc_nonce_budget),
                        errhint("Rotate the keyring: SELECT colcrypt.rotate_key(%s);  The automatic rotation did "
                                "not complete: see the server log.",
                                quote_literal_cstr(keyring_name))));
    // A standby cannot rotate (only casts in read-only queries encrypt
    // there); the primary rotates its own keys.
    if (RecoveryInProgress())
        return;
    std::uint64_t last = pg_atomic_read_u64(&c->last_rotation_request);
    if (!b.should_request_rotation(n, last, false))
        return;
    WorkerRequest request{WorkerTask::rotate_keyring, MyDatabaseId, keyring_id, version, n};
    if (worker_request_in_table(request))
        return;
    // One backend asks.
    if (!pg_atomic_compare_exchange_u64(&c->last_rotation_request, &last, n))
        return;
    switch (post_worker_request(request)) {
    case PostResult::posted:
        ereport(LOG, (errmsg("colcrypt: key version %u of keyring \"%s\" reached its nonce budget (" UINT64_FORMAT
                             " encryptions, colcrypt.nonce_budget = %d); starting automatic rotation",
                             version, keyring_name, n, guc_nonce_budget),
                      // The statement that was encrypting may hold plaintext literals.
                      errhidestmt(true)));
        break;
    case PostResult::table_full:
        ereport(WARNING, (errmsg("colcrypt: could not request the automatic rotation of keyring \"%s\"", keyring_name),
                          errdetail("The table of background work requests is full."),
                          errhint("Rotate now: SELECT colcrypt.rotate_key(%s);", quote_literal_cstr(keyring_name)), errhidestmt(true)));
        break;
    case PostResult::already_there:
    case PostResult::no_shared_memory:
        break;
    }
}

// ---------------------------------------------------------------------------
// Releasing the counters of retired versions at commit.
// ---------------------------------------------------------------------------

struct PendingRelease {
    std::uint32_t keyring_id;
    std::uint32_t version;
    SubTransactionId subtransaction;  // that queued it: its rollback drops it
};
// In TopTransactionContext: gone with the transaction.
PendingRelease *pending_releases = nullptr;
int pending_release_count = 0;
int pending_release_room = 0;
bool xact_callback_registered = false;

void at_xact_end(XactEvent event, void *) {
    // The release would have to happen at COMMIT PREPARED, possibly in
    // another session, where nothing runs colcrypt's callback.
    if (event == XACT_EVENT_PRE_PREPARE && pending_release_count > 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot PREPARE a transaction that retired a key version"),
                        errhint("Run colcrypt.retire_key() in a transaction that commits directly.")));
    if (event == XACT_EVENT_COMMIT && pending_release_count > 0 && shared != nullptr) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        for (int i = 0; i < pending_release_count; i++) {
            NonceCounter *c = find_counter(MyDatabaseId, pending_releases[i].keyring_id, pending_releases[i].version);
            if (c != nullptr)
                free_slot(*c);
        }
        LWLockRelease(shared->lock);
        // Committed: no ERROR may follow, so the launcher rewrites the file.
        wake_launcher();
    }
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE) {
        pending_releases = nullptr;
        pending_release_count = pending_release_room = 0;
    }
}

// A rolled-back savepoint takes back the releases queued inside it (and
// inside the savepoints it contained, whose ids are larger).
void at_subxact_end(SubXactEvent event, SubTransactionId subtransaction, SubTransactionId, void *) {
    if (event != SUBXACT_EVENT_ABORT_SUB)
        return;
    while (pending_release_count > 0 && pending_releases[pending_release_count - 1].subtransaction >= subtransaction)
        pending_release_count--;
}

}  // namespace

std::size_t nonce_counters_shmem_size() {
    return add_size(offsetof(NonceCounters, counters), mul_size(sizeof(NonceCounter), guc_max_key_versions));
}

void nonce_counters_shmem_init(void *memory, bool found, LWLock *lock) {
    shared = static_cast<NonceCounters *>(memory);
    if (found)
        return;
    shared->lock = lock;
    pg_atomic_init_u64(&shared->release_generation, 1);
    pg_atomic_init_u32(&shared->file_lists_freed, 0);
    shared->size = guc_max_key_versions;
    for (int i = 0; i < shared->size; i++) {
        NonceCounter &c = shared->counters[i];
        c.database = InvalidOid;
        c.keyring_id = 0;
        c.version = 0;
        c.in_use = false;
        pg_atomic_init_u64(&c.count, 0);
        pg_atomic_init_u64(&c.reserved, 0);
        pg_atomic_init_u64(&c.last_rotation_request, 0);
    }
    load_counters();
}

void count_encryption(std::uint32_t keyring_id, std::uint32_t version, const char *keyring_name) {
    if (shared == nullptr)
        return;
    NonceCounter *c = counter_for(keyring_id, version);
    std::uint64_t n = pg_atomic_add_fetch_u64(&c->count, 1);
    const core::NonceBudget b = budget();
    if (unlikely(b.reached(n)))
        budget_reached(b, c, keyring_id, version, keyring_name, n);
    if (unlikely(n > pg_atomic_read_u64(&c->reserved)))
        reserve(c, n);
}

void release_nonce_counter_at_commit(std::uint32_t keyring_id, std::uint32_t version) {
    if (!xact_callback_registered) {
        RegisterXactCallback(at_xact_end, nullptr);
        RegisterSubXactCallback(at_subxact_end, nullptr);
        xact_callback_registered = true;
    }
    if (pending_release_count == pending_release_room) {
        int room = Max(8, 2 * pending_release_room);
        auto *grown = (PendingRelease *) MemoryContextAlloc(TopTransactionContext, sizeof(PendingRelease) * room);
        if (pending_release_count > 0)
            std::memcpy(grown, pending_releases, sizeof(PendingRelease) * pending_release_count);
        pending_releases = grown;
        pending_release_room = room;
    }
    pending_releases[pending_release_count++] = PendingRelease{keyring_id, version, GetCurrentSubTransactionId()};
}

void persist_released_counters() {
    if (shared == nullptr || pg_atomic_read_u32(&shared->file_lists_freed) == 0)
        return;
    // Slots are freed under the lock, so none is freed between the write
    // and the clearing.  A failed write (ERROR) leaves the flag set for the
    // next try and the lock to the process's exit.
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    write_counters(nullptr, 0);
    pg_atomic_write_u32(&shared->file_lists_freed, 0);
    LWLockRelease(shared->lock);
}

NonceCount *nonce_counts(int *count) {
    *count = 0;
    if (shared == nullptr)
        return (NonceCount *) palloc(sizeof(NonceCount));
    auto *rows = (NonceCount *) palloc(sizeof(NonceCount) * shared->size);
    LWLockAcquire(shared->lock, LW_SHARED);
    for (int i = 0; i < shared->size; i++) {
        NonceCounter &c = shared->counters[i];
        if (c.in_use && c.database == MyDatabaseId)
            rows[(*count)++] = NonceCount{c.keyring_id, c.version, pg_atomic_read_u64(&c.count)};
    }
    LWLockRelease(shared->lock);
    return rows;
}

}  // namespace colcrypt::pg
