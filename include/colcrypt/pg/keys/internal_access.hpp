// Running SQL as the owner of colcrypt's tables, and the SPI helpers that
// every such query uses.
//
// colcrypt's tables are not readable by ordinary roles.  colcrypt reads and
// writes them as the tables' owner, through SPI, with search_path pinned to
// pg_catalog so that no object in a caller's schema can stand in for ours,
// and with SECURITY_RESTRICTED_OPERATION so that nothing run on the way can
// change session state.  Use:
//     InternalAccess access;
//     begin_internal_access(&access);
//     run_internal_query(...); read the result with result_* ...
//     end_internal_access(&access);
// An ERROR in between is cleaned up by transaction abort, which restores the
// user id, the security context and the GUC nest level.
//
// The statements themselves are in keys/catalog.cpp (colcrypt's tables) and
// admin/value_scan.cpp (the scan of tables holding encrypted values).
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace colcrypt::pg {

struct InternalAccess {
    Oid saved_user;
    int saved_security_context;
    int guc_nest_level;
};

void begin_internal_access(InternalAccess *access);
void end_internal_access(InternalAccess *access);

// A statement parsed and planned once for the backend's life (SPI_prepare,
// then SPI_keepplan), with a copy of its text in TopMemoryContext to match
// later calls against.  The plan cache revalidates the plan after DDL on
// what it reads and replans when search_path differs.  ERROR when either
// step fails; forget_statement frees both.
struct KeptStatement {
    char *sql;
    SPIPlanPtr plan;
};
KeptStatement keep_statement(const char *sql, int nargs, Oid *types);
void forget_statement(KeptStatement *statement);

// OIDs of colcrypt.keyrings and colcrypt.key_versions (ERROR with a hint when
// the extension is not installed in this database).
Oid keyrings_relid();
Oid key_versions_relid();
// colcrypt.keyrings' OID if already looked up in this backend, else
// InvalidOid; never does catalog access (safe in invalidation callbacks).
Oid keyrings_relid_if_known();
// Forget the cached OIDs (after DROP EXTENSION, say).
void forget_key_tables();

// One query argument: its type, its value, and whether it is NULL.
struct QueryArg {
    Oid type;
    Datum value;
    bool is_null = false;
};
QueryArg int4_arg(int32 value);
QueryArg text_arg(const char *value);  // NULL when value is nullptr
QueryArg bytea_arg(const std::uint8_t *data, std::size_t size);
QueryArg oid_arg(Oid value);

// Run sql; ERROR unless SPI returns `expected`.  Reads use the caller's
// active snapshot when there is one, so a lookup never advances the command
// counter (which parallel workers forbid).
void run_internal_query(const char *sql, int expected, int nargs = 0, const QueryArg *args = nullptr);
// A read of the latest committed state (and this transaction's own earlier
// commands), whatever the transaction's snapshot: what colcrypt's key
// tables say now, as catalogs are read.  In parallel mode (a parallel
// plan's leader or worker), which cannot take snapshots, the query's
// active snapshot: what the caches load there serves that transaction
// only (key_cache.cpp, keyring_privilege.cpp).
void run_internal_current_query(const char *sql, int nargs, const QueryArg *args);
// The same for a query that locks rows (SELECT ... FOR UPDATE) or must see
// rows committed while it waited for a lock: never read-only, so SPI takes a
// fresh snapshot for it (under READ COMMITTED).
void run_internal_locking_query(const char *sql, int expected, int nargs = 0, const QueryArg *args = nullptr);

// Rows of the last result, and column n (1-based) of row `row`.
std::uint64_t result_rows();
bool result_is_null(std::uint64_t row, int n);
bool result_bool(std::uint64_t row, int n);    // false when NULL
int32 result_int(std::uint64_t row, int n);    // 0 when NULL
int64 result_int64(std::uint64_t row, int n);  // 0 when NULL
Oid result_oid(std::uint64_t row, int n);      // InvalidOid when NULL
// Text value copied into out (empty when NULL, cut to fit).
void result_text(std::uint64_t row, int n, char *out, std::size_t out_size);
// Text value, palloc'd in the memory context that was current when internal
// access began, so it outlives end_internal_access; nullptr when NULL.
char *result_text_copy(std::uint64_t row, int n);
// bytea value copied into out; returns its size, 0 when NULL or too large.
std::size_t result_bytes(std::uint64_t row, int n, std::uint8_t *out, std::size_t out_size);

}  // namespace colcrypt::pg
