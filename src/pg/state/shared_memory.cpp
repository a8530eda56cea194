// Requesting and initialising colcrypt's shared memory.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

#include "colcrypt/pg/state/nonce_counters.hpp"
#include "colcrypt/pg/state/shared_memory.hpp"
#include "colcrypt/pg/state/usage_stats.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"

namespace colcrypt::pg {
namespace {

constexpr const char *kTrancheName = "colcrypt";
constexpr int kLocks = 3;  // nonce counters, worker requests, usage statistics
constexpr const char *kCountersName = "colcrypt nonce counters";
constexpr const char *kRequestsName = "colcrypt worker requests";
constexpr const char *kUsageName = "colcrypt usage statistics";

shmem_startup_hook_type previous_shmem_startup_hook = nullptr;
#if PG_VERSION_NUM >= 150000
shmem_request_hook_type previous_shmem_request_hook = nullptr;
#endif

void request_shared_memory() {
    RequestAddinShmemSpace(
        add_size(add_size(nonce_counters_shmem_size(), worker_requests_shmem_size()), usage_stats_shmem_size()));
    RequestNamedLWLockTranche(kTrancheName, kLocks);
}

#if PG_VERSION_NUM >= 150000
void colcrypt_shmem_request() {
    if (previous_shmem_request_hook)
        previous_shmem_request_hook();
    request_shared_memory();
}
#endif

void colcrypt_shmem_startup() {
    if (previous_shmem_startup_hook)
        previous_shmem_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    LWLockPadded *locks = GetNamedLWLockTranche(kTrancheName);
    bool found;
    void *counters = ShmemInitStruct(kCountersName, nonce_counters_shmem_size(), &found);
    nonce_counters_shmem_init(counters, found, &locks[0].lock);
    void *requests = ShmemInitStruct(kRequestsName, worker_requests_shmem_size(), &found);
    worker_requests_shmem_init(requests, found, &locks[1].lock);
    void *usage = ShmemInitStruct(kUsageName, usage_stats_shmem_size(), &found);
    usage_stats_shmem_init(usage, found, &locks[2].lock);
    LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void install_shared_memory_hooks() {
#if PG_VERSION_NUM >= 150000
    previous_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = colcrypt_shmem_request;
#else
    request_shared_memory();
#endif
    previous_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = colcrypt_shmem_startup;
}

}  // namespace colcrypt::pg
