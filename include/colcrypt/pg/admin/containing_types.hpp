// The set of every type whose values can contain an encrypted value: the
// encrypted types, and domains, arrays, composites, ranges and
// multiranges of any type in the set, to a fixed point.  Used to find the
// tables, indexes and statistics that can hold envelopes (retire_key's
// scan, upgrade_index_order's rebuild).
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"

namespace colcrypt::pg {

struct TypeSet {
    Oid *oids;
    int count;
};

// Inside internal access; the set is allocated to outlive it (SPI_palloc).
TypeSet containing_types();

bool contains(const TypeSet &set, Oid type);

// The set as an oid[] argument of an internal query.
QueryArg oid_array_arg(const TypeSet &set);

}  // namespace colcrypt::pg
