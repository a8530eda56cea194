// SQL-callable views of the nonce counters: colcrypt._nonce_counters()
// (behind colcrypt.keys) and colcrypt._nonce_policy().
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
}

#include "colcrypt/core/nonce_budget.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/state/nonce_counters.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_nonce_counters);
PG_FUNCTION_INFO_V1(colcrypt_nonce_policy);
}

using namespace colcrypt::pg;

// colcrypt._nonce_counters(): (keyring_id, version, encryptions) of this
// database's counters.
extern "C" Datum colcrypt_nonce_counters(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    int count;
    NonceCount *rows = nonce_counts(&count);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    for (int i = 0; i < count; i++) {
        Datum values[3] = {Int32GetDatum((int32) rows[i].keyring_id), Int32GetDatum((int32) rows[i].version),
                           Int64GetDatum((int64) rows[i].encryptions)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

// colcrypt._nonce_policy(): what colcrypt.nonce_budget means right now, as
// the server computes it: the budget, the hard limit where encryption is
// refused, and the block reserved per write of the counter file (the most
// a crash can over-count by).
extern "C" Datum colcrypt_nonce_policy(PG_FUNCTION_ARGS) {
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    tupdesc = BlessTupleDesc(tupdesc);
    const colcrypt::core::NonceBudget budget((std::uint64_t) guc_nonce_budget);
    Datum values[3] = {Int64GetDatum((int64) budget.budget()), Int64GetDatum((int64) budget.hard_limit()),
                       Int64GetDatum((int64) budget.reservation_block())};
    bool nulls[3] = {false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
