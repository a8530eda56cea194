// The table of background work requests.  See
// include/colcrypt/pg/state/worker_requests.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/shmem.h"
}

#include "colcrypt/pg/state/worker_requests.hpp"

namespace colcrypt::pg {
namespace {

enum class SlotState : std::uint32_t { free = 0, pending, starting, running };

struct RequestSlot {
    SlotState state;
    std::uint32_t generation;  // bumped each time the slot is taken
    int worker_pid;            // while running
    WorkerRequest request;
};

struct WorkerRequests {
    LWLock *lock;
    Latch *launcher_latch;  // under lock
    RequestSlot slots[kMaxWorkerRequests];
};

WorkerRequests *requests = nullptr;

bool same_work(const WorkerRequest &a, const WorkerRequest &b) {
    return a.task == b.task && a.database == b.database && a.keyring_id == b.keyring_id && a.version == b.version;
}

int find_locked(const WorkerRequest &request) {
    for (int i = 0; i < kMaxWorkerRequests; i++)
        if (requests->slots[i].state != SlotState::free && same_work(requests->slots[i].request, request))
            return i;
    return -1;
}

}  // namespace

std::size_t worker_requests_shmem_size() {
    return sizeof(WorkerRequests);
}

void worker_requests_shmem_init(void *memory, bool found, LWLock *lock) {
    requests = static_cast<WorkerRequests *>(memory);
    if (found)
        return;
    requests->lock = lock;
    requests->launcher_latch = nullptr;
    for (RequestSlot &slot : requests->slots)
        slot = RequestSlot{};
}

bool worker_request_in_table(const WorkerRequest &request) {
    if (requests == nullptr)
        return false;
    LWLockAcquire(requests->lock, LW_SHARED);
    bool there = find_locked(request) >= 0;
    LWLockRelease(requests->lock);
    return there;
}

bool task_in_table(WorkerTask task) {
    if (requests == nullptr)
        return false;
    LWLockAcquire(requests->lock, LW_SHARED);
    bool there = false;
    for (int i = 0; i < kMaxWorkerRequests && !there; i++)
        there = requests->slots[i].state != SlotState::free && requests->slots[i].request.task == task;
    LWLockRelease(requests->lock);
    return there;
}

PostResult post_worker_request(const WorkerRequest &request) {
    if (requests == nullptr)
        return PostResult::no_shared_memory;
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    PostResult result = PostResult::table_full;
    if (find_locked(request) >= 0) {
        result = PostResult::already_there;
    } else {
        for (RequestSlot &slot : requests->slots) {
            if (slot.state == SlotState::free) {
                slot.state = SlotState::pending;
                slot.generation++;
                slot.worker_pid = 0;
                slot.request = request;
                result = PostResult::posted;
                break;
            }
        }
    }
    Latch *launcher = requests->launcher_latch;
    LWLockRelease(requests->lock);
    if (result == PostResult::posted && launcher != nullptr)
        SetLatch(launcher);
    return result;
}

void wake_launcher() {
    if (requests == nullptr)
        return;
    LWLockAcquire(requests->lock, LW_SHARED);
    Latch *launcher = requests->launcher_latch;
    LWLockRelease(requests->lock);
    if (launcher != nullptr)
        SetLatch(launcher);
}

void set_launcher_latch(Latch *latch) {
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    requests->launcher_latch = latch;
    LWLockRelease(requests->lock);
}

bool launcher_is_running() {
    if (requests == nullptr)
        return false;
    LWLockAcquire(requests->lock, LW_SHARED);
    bool running = requests->launcher_latch != nullptr;
    LWLockRelease(requests->lock);
    return running;
}

void recover_starting_requests() {
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    for (RequestSlot &slot : requests->slots)
        if (slot.state == SlotState::starting)
            slot.state = SlotState::pending;
    LWLockRelease(requests->lock);
}

int next_pending_request(int from, WorkerRequest *request, std::uint32_t *generation) {
    LWLockAcquire(requests->lock, LW_SHARED);
    int found = -1;
    for (int i = from; i < kMaxWorkerRequests && found < 0; i++) {
        if (requests->slots[i].state == SlotState::pending) {
            *request = requests->slots[i].request;
            *generation = requests->slots[i].generation;
            found = i;
        }
    }
    LWLockRelease(requests->lock);
    return found;
}

void mark_request_starting(int slot, std::uint32_t generation) {
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    RequestSlot &s = requests->slots[slot];
    if (s.generation == generation && s.state == SlotState::pending)
        s.state = SlotState::starting;
    LWLockRelease(requests->lock);
}

void request_worker_stopped(int slot, std::uint32_t generation) {
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    RequestSlot &s = requests->slots[slot];
    if (s.generation == generation) {
        if (s.state == SlotState::starting)
            s.state = SlotState::pending;
        else if (s.state == SlotState::running)
            s.state = SlotState::free;
    }
    LWLockRelease(requests->lock);
}

bool claim_request(int slot, std::uint32_t generation, WorkerRequest *request) {
    if (requests == nullptr || slot < 0 || slot >= kMaxWorkerRequests)
        return false;
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    RequestSlot &s = requests->slots[slot];
    bool claimed = s.generation == generation && (s.state == SlotState::starting || s.state == SlotState::pending);
    if (claimed) {
        s.state = SlotState::running;
        s.worker_pid = MyProcPid;
        *request = s.request;
    }
    LWLockRelease(requests->lock);
    return claimed;
}

void finish_request(int slot, std::uint32_t generation) {
    if (requests == nullptr || slot < 0 || slot >= kMaxWorkerRequests)
        return;
    LWLockAcquire(requests->lock, LW_EXCLUSIVE);
    RequestSlot &s = requests->slots[slot];
    if (s.generation == generation && s.worker_pid == MyProcPid)
        s.state = SlotState::free;
    LWLockRelease(requests->lock);
}

}  // namespace colcrypt::pg
