// The databases the launcher starts workers in.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "utils/memutils.h"
}

#include "colcrypt/pg/worker/database_list.hpp"

namespace colcrypt::pg {

List *connectable_databases() {
    List *databases = NIL;
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    MemoryContext outer = MemoryContextSwitchTo(TopMemoryContext);
    for (HeapTuple tuple; (tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr;) {
        Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
        if (db->datallowconn && !db->datistemplate)
            databases = lappend_oid(databases, db->oid);
    }
    MemoryContextSwitchTo(outer);
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return databases;
}

}  // namespace colcrypt::pg
