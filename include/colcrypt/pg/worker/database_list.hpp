// The databases the launcher starts workers in: those that allow
// connections and are not templates.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "nodes/pg_list.h"
}

namespace colcrypt::pg {

// Their OIDs, in a List allocated in TopMemoryContext.  Starts and commits
// a transaction of its own (the launcher has no database: pg_database is a
// shared catalog).
List *connectable_databases();

}  // namespace colcrypt::pg
