// Access to colcrypt's own tables (colcrypt.keyrings, colcrypt.key_versions).
//
// Those tables are not readable by ordinary roles.  colcrypt reads and writes
// them as the tables' owner, through SPI, with search_path pinned to
// pg_catalog so that no object in a caller's schema can stand in for ours.
// Use:
//     InternalAccess access;
//     begin_internal_access(&access);
//     run_internal_query(...); read SPI_tuptable ...
//     end_internal_access(&access);
// An ERROR in between is cleaned up by transaction abort, which restores the
// user id, the security context and the GUC nest level.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::pg {

struct InternalAccess {
    Oid saved_user;
    int saved_security_context;
    int guc_nest_level;
};

void begin_internal_access(InternalAccess *access);
void end_internal_access(InternalAccess *access);

// OIDs of colcrypt.keyrings and colcrypt.key_versions (ERROR with a hint when
// the extension is not installed in this database).
Oid keyrings_relid();
Oid key_versions_relid();
// colcrypt.keyrings' OID if already looked up in this backend, else
// InvalidOid; never does catalog access (safe in invalidation callbacks).
Oid keyrings_relid_if_known();
// Forget the cached OIDs (after DROP EXTENSION, say).
void forget_key_tables();

// Run sql with int4 arguments; ERROR unless SPI returns `expected`.  Reads
// use the caller's active snapshot when there is one, so a lookup never
// advances the command counter (which parallel workers forbid).
void run_internal_query(const char *sql, int nargs, const int32 *args, int expected);
// The same with arguments of any type.
void run_internal_query_typed(const char *sql, int nargs, const Oid *types, const Datum *values, int expected);
// The same for a query that locks rows (SELECT ... FOR UPDATE) or must see
// rows committed while it waited for a lock: never read-only, so SPI takes a
// fresh snapshot for it (under READ COMMITTED).
void run_internal_locking_query(const char *sql, int nargs, const Oid *types, const Datum *values, int expected);

// A bytea Datum holding a copy of data (palloc'd), for query arguments.
Datum bytea_param(const std::uint8_t *data, std::size_t size);

// Column n (1-based) of row `row` of the last result.
bool result_is_null(int row, int n);
bool result_bool(int row, int n);  // false when NULL
int32 result_int(int row, int n);
// Text value copied into out (empty when NULL).
void result_text(int row, int n, char *out, std::size_t out_size);
// bytea value copied into out; returns its size, 0 when NULL or too large.
std::size_t result_bytes(int row, int n, std::uint8_t *out, std::size_t out_size);

}  // namespace colcrypt::pg
