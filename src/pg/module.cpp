// Module entry: GUCs, hooks and, when preloaded, the master key.
#include "colcrypt/pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

#include "colcrypt/pg/access_control.hpp"
#include "colcrypt/pg/ddl_hook.hpp"
#include "colcrypt/pg/equality.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/log_redaction.hpp"
#include "colcrypt/pg/master_key_provider.hpp"
#include "colcrypt/pg/nonce_budget.hpp"
#include "colcrypt/pg/value_codec.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

extern "C" void _PG_init(void) {
    using namespace colcrypt::pg;
    define_master_key_gucs();
    define_key_store_gucs();
    define_value_codec_gucs();
    define_ddl_gucs();
    define_nonce_budget_gucs();
    MarkGUCPrefixReserved("colcrypt");

    register_key_cache_invalidation();
    register_access_control_invalidation();
    install_ddl_hook();
    install_comparison_binding_hook();
    install_log_redaction_hook();

    // Only the postmaster loads the key, so that every backend inherits it
    // and no backend ever reads the key file or runs the key command.
    if (process_shared_preload_libraries_in_progress) {
        load_master_key_at_startup();
        install_nonce_budget_hooks();
    }
}
