// The job a rotation queues.  See include/colcrypt/pg/admin/reencrypt_on_rotate.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "executor/spi.h"
}

#include "colcrypt/pg/admin/reencrypt_on_rotate.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"

namespace colcrypt::pg {

void queue_reencrypt_after_rotation(const char *name) {
    if (!guc_reencrypt_on_rotate || !extension_version_at_least(0, 2))
        return;
    InternalAccess access;
    begin_internal_access(&access);
    QueryArg args[] = {text_arg(name)};
    run_internal_query("SELECT colcrypt._queue_reencrypt(NULL, k.keyring_id) FROM colcrypt.keyrings k WHERE k.name = $1",
                       SPI_OK_SELECT, 1, args);
    bool queued = result_rows() == 1 && !result_is_null(0, 1);
    int64 job = queued ? result_int64(0, 1) : 0;
    end_internal_access(&access);
    if (queued)
        ereport(NOTICE, (errmsg("re-encryption job " INT64_FORMAT " queued for the values of keyring \"%s\"", job, name),
                         errhint("Watch it in colcrypt.reencrypt_progress.")));
}

}  // namespace colcrypt::pg
