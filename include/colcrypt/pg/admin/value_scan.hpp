// Where values under one data-key version can still be read: the physical
// scan behind retire_key (docs/design/retirement.md).  Every page of every
// table and btree or GIN index whose columns can contain an encrypted
// value, every row version and index entry on it, with values inside
// domains, arrays, composites and ranges walked; and the sample values of
// planner statistics (pg_statistic, extended statistics).  Headers only: nothing is decrypted, and
// long values are read no further than their header.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
}

namespace colcrypt::pg {

struct TypeSet;

struct VersionUse {
    int64 live;                 // values in row versions the latest snapshot sees
    int64 dead;                 // values only in row versions it does not see
    int64 index_leaf;           // btree leaf entries holding such a value (VACUUM removes those of dead rows)
    int64 index_until_rebuilt;  // entries only a rebuild removes: btree pivots, GIN keys
    int64 statistics;           // sample values in planner statistics (ANALYZE replaces them)
    int64 unreadable;           // values whose header cannot be parsed
    StringInfoData live_where;  // "table.column (n)", at most a screenful each
    StringInfoData dead_where;
    StringInfoData index_where;
    StringInfoData statistics_where;
    StringInfoData unreadable_where;
    char *other_temp_table;  // name of another session's temporary table that may hold values
    char *unchecked_index;   // "name (access method)" of an index whose pages cannot be read
    List *indexes_holding;   // OIDs of the indexes with an entry (leaf or pivot) holding such a value
};

// Scan for values of keyring_id under version.  Take the version's
// retirement lock first, so that nothing writes under it meanwhile.  With
// only_table, the scan covers that table, its indexes and its statistics
// alone (what a re-encryption job left behind in it).
void find_version_use(std::uint32_t keyring_id, std::uint32_t version, VersionUse *use,
                      Oid only_table = InvalidOid);

// Coverage: how many values of one table (its own pages: a partition is a
// table of its own) are under each keyring and version, per column, in row
// versions the latest snapshot sees (live) and in the others (dead).
// Values inside domains, arrays, composites and ranges are counted under
// the column that holds them.  The same walk as find_version_use.
struct VersionCount {
    int16 attnum;
    std::uint32_t keyring_id;
    std::uint32_t version;
    int64 live;
    int64 dead;
};
// A List of VersionCount *; *unreadable: values whose header cannot be
// parsed.  types: containing_types() (admin/containing_types.hpp).
List *count_versions(Oid table, const TypeSet &types, int64 *unreadable);

}  // namespace colcrypt::pg
