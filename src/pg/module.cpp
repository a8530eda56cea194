// Module entry: settings, hooks, invalidation callbacks and, when preloaded,
// the master key, shared memory and the launcher.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
}

#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/hooks/ddl_hook.hpp"
#include "colcrypt/pg/hooks/log_redaction.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_privilege.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"
#include "colcrypt/pg/planner/comparison_binding.hpp"
#include "colcrypt/pg/state/shared_memory.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"
#include "colcrypt/pg/worker/launcher.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

extern "C" void _PG_init(void) {
    using namespace colcrypt::pg;
    define_gucs();

    register_key_cache_invalidation();
    register_keyring_privilege_invalidation();
    register_encrypted_type_invalidation();
    install_ddl_hook();
    install_comparison_binding_hook();
    install_log_redaction_hook();

    // Only the postmaster loads the key, so that every backend inherits it
    // and no backend ever reads the key file or runs the key command.
    if (process_shared_preload_libraries_in_progress) {
        load_master_key_at_startup();
        install_shared_memory_hooks();
        register_launcher();
    }
}
