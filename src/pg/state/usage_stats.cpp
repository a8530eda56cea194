// Usage statistics per keyring.  See include/colcrypt/pg/state/usage_stats.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "utils/timestamp.h"
}

#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/state/usage_stats.hpp"

namespace colcrypt::pg {
namespace {

constexpr int kEvents = 3;

// A slot's key (database, keyring) is written once, under the lock, before
// `used` is set; readers that see `used` see the key.
struct UsageSlot {
    pg_atomic_uint32 used;
    Oid database;
    std::uint32_t keyring_id;
    pg_atomic_uint64 counts[kEvents];
    pg_atomic_uint64 since;  // TimestampTz
};

struct UsageTable {
    LWLock *lock;
    int size;
    pg_atomic_uint32 overflowed;
    UsageSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

UsageTable *shared = nullptr;

// The last slots this backend used, by keyring id: a query touches few
// keyrings.  Keyed by database too (a worker may move between databases).
struct CachedSlot {
    Oid database;
    std::uint32_t keyring_id;
    UsageSlot *slot;
};
constexpr int kCachedSlots = 8;
CachedSlot cached[kCachedSlots];
int next_cached = 0;

int home_of(Oid database, std::uint32_t keyring_id) {
    std::uint64_t h = ((std::uint64_t) database << 32 | keyring_id) * 0x9E3779B97F4A7C15ULL;
    return (int) (h % (std::uint64_t) shared->size);
}

// Whether a slot is taken; its key may be read after this says so.
bool in_use(UsageSlot *slot) {
    if (pg_atomic_read_u32(&slot->used) == 0)
        return false;
    pg_read_barrier();
    return true;
}

// Probe from the home slot; nullptr when absent.
UsageSlot *find_slot(Oid database, std::uint32_t keyring_id, int *first_free) {
    *first_free = -1;
    int home = home_of(database, keyring_id);
    for (int i = 0; i < shared->size; i++) {
        int at = (home + i) % shared->size;
        UsageSlot *slot = &shared->slots[at];
        if (!in_use(slot)) {
            *first_free = at;
            return nullptr;  // slots are never freed: the probe ends here
        }
        if (slot->database == database && slot->keyring_id == keyring_id)
            return slot;
    }
    return nullptr;
}

UsageSlot *slot_for(Oid database, std::uint32_t keyring_id) {
    for (CachedSlot &c : cached)
        if (c.slot != nullptr && c.database == database && c.keyring_id == keyring_id)
            return c.slot;
    int free_at;
    UsageSlot *slot = find_slot(database, keyring_id, &free_at);
    if (slot == nullptr) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        slot = find_slot(database, keyring_id, &free_at);
        if (slot == nullptr && free_at >= 0) {
            slot = &shared->slots[free_at];
            slot->database = database;
            slot->keyring_id = keyring_id;
            for (pg_atomic_uint64 &count : slot->counts)
                pg_atomic_write_u64(&count, 0);
            pg_atomic_write_u64(&slot->since, (std::uint64_t) GetCurrentTimestamp());
            pg_write_barrier();
            pg_atomic_write_u32(&slot->used, 1);
        }
        LWLockRelease(shared->lock);
        if (slot == nullptr) {
            pg_atomic_write_u32(&shared->overflowed, 1);
            return nullptr;
        }
    }
    cached[next_cached] = CachedSlot{database, keyring_id, slot};
    next_cached = (next_cached + 1) % kCachedSlots;
    return slot;
}

// Encryptions and decryptions of the last keyrings counted, not yet added
// to the shared table: a load or a scan counts a few keyrings row after row
// (a row's columns may each have their own), and an atomic add per value on
// a cache line every backend writes is what counting would otherwise cost.
// Added at the end of every transaction (and before this backend reads or
// resets the counts), so other sessions see a transaction's counts once it
// has ended, as with PostgreSQL's own statistics.  Failures are added at
// once.
struct PendingCounts {
    Oid database = InvalidOid;  // InvalidOid: nothing pending
    std::uint32_t keyring_id = 0;
    std::uint64_t counts[2] = {0, 0};  // UsageEvent::encryption, ::decryption
};
constexpr int kPending = 4;
PendingCounts pending[kPending];
int last_pending = 0;  // the entry count_usage checks first
bool flush_callback_registered = false;

void add_pending_entry(PendingCounts &entry) {
    if (entry.database == InvalidOid)
        return;
    PendingCounts adding = entry;
    entry = PendingCounts{};
    if (UsageSlot *slot = slot_for(adding.database, adding.keyring_id))
        for (int i = 0; i < 2; i++)
            if (adding.counts[i] != 0)
                pg_atomic_fetch_add_u64(&slot->counts[i], adding.counts[i]);
}

void add_pending() {
    for (PendingCounts &entry : pending)
        add_pending_entry(entry);
}

void add_pending_at_transaction_end(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        add_pending();
}

// count_usage for anything but one more event of the keyring counted last.
__attribute__((noinline)) void count_usage_slow(std::uint32_t keyring_id, UsageEvent event) {
    if (shared == nullptr || !OidIsValid(MyDatabaseId))
        return;
    if (event == UsageEvent::failure) {
        if (UsageSlot *slot = slot_for(MyDatabaseId, keyring_id))
            pg_atomic_fetch_add_u64(&slot->counts[(int) event], 1);
        return;
    }
    // Counting happens inside transactions, and a process that exits ends
    // its transaction first (ShutdownPostgres aborts it), so the end of the
    // transaction is the last moment counts can arrive.  No exit callback:
    // one registered lazily could land inside a PG_ENSURE_ERROR_CLEANUP
    // block, whose cancel_before_shmem_exit then fails.
    if (!flush_callback_registered) {
        RegisterXactCallback(add_pending_at_transaction_end, nullptr);
        flush_callback_registered = true;
    }
    int at = -1;
    for (int i = 0; i < kPending && at < 0; i++)
        if (pending[i].database == MyDatabaseId && pending[i].keyring_id == keyring_id)
            at = i;
    for (int i = 0; i < kPending && at < 0; i++)
        if (pending[i].database == InvalidOid)
            at = i;
    if (at < 0) {
        // All taken by other keyrings: the one after the last used gives way.
        at = (last_pending + 1) % kPending;
        add_pending_entry(pending[at]);
    }
    if (pending[at].database == InvalidOid) {
        pending[at].database = MyDatabaseId;
        pending[at].keyring_id = keyring_id;
    }
    pending[at].counts[(int) event]++;
    last_pending = at;
}

}  // namespace

std::size_t usage_stats_shmem_size() {
    return add_size(offsetof(UsageTable, slots), mul_size(sizeof(UsageSlot), guc_max_key_versions));
}

void usage_stats_shmem_init(void *memory, bool found, LWLock *lock) {
    shared = static_cast<UsageTable *>(memory);
    if (found)
        return;
    shared->lock = lock;
    shared->size = guc_max_key_versions;
    pg_atomic_init_u32(&shared->overflowed, 0);
    for (int i = 0; i < shared->size; i++) {
        UsageSlot *slot = &shared->slots[i];
        pg_atomic_init_u32(&slot->used, 0);
        slot->database = InvalidOid;
        slot->keyring_id = 0;
        for (pg_atomic_uint64 &count : slot->counts)
            pg_atomic_init_u64(&count, 0);
        pg_atomic_init_u64(&slot->since, 0);
    }
}

// Something is pending only in a database (its database is valid), so a
// match means the current database, with shared memory.
void count_usage(std::uint32_t keyring_id, UsageEvent event) {
    PendingCounts &last = pending[last_pending];
    if (likely(event != UsageEvent::failure && last.keyring_id == keyring_id && last.database == MyDatabaseId &&
               last.database != InvalidOid)) {
        last.counts[(int) event]++;
        return;
    }
    count_usage_slow(keyring_id, event);
}

UsageRow *usage_rows(int *count) {
    *count = 0;
    if (shared == nullptr)
        return static_cast<UsageRow *>(palloc(sizeof(UsageRow)));
    add_pending();
    auto *rows = static_cast<UsageRow *>(palloc(sizeof(UsageRow) * (shared->size + 1)));
    for (int i = 0; i < shared->size; i++) {
        UsageSlot *slot = &shared->slots[i];
        if (!in_use(slot) || slot->database != MyDatabaseId)
            continue;
        rows[*count] = UsageRow{slot->keyring_id, pg_atomic_read_u64(&slot->counts[0]),
                                pg_atomic_read_u64(&slot->counts[1]), pg_atomic_read_u64(&slot->counts[2]),
                                (TimestampTz) pg_atomic_read_u64(&slot->since)};
        (*count)++;
    }
    return rows;
}

void reset_usage() {
    if (shared == nullptr)
        return;
    add_pending();  // this backend's counts so far are reset with the others
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < shared->size; i++) {
        UsageSlot *slot = &shared->slots[i];
        if (!in_use(slot) || slot->database != MyDatabaseId)
            continue;
        for (pg_atomic_uint64 &c : slot->counts)
            pg_atomic_write_u64(&c, 0);
        pg_atomic_write_u64(&slot->since, (std::uint64_t) now);
    }
}

bool usage_table_overflowed() {
    return shared != nullptr && pg_atomic_read_u32(&shared->overflowed) != 0;
}

}  // namespace colcrypt::pg
