// colcrypt._boundary_selftest(direction text): provokes both directions of
// the C++/PostgreSQL boundary for the regression tests.
//   'cxx-exception'  a C++ exception thrown under cpp_guard
//   'pg-error'       a PostgreSQL ERROR raised under pg_guard, inside C++
//   'destructors'    how many probe objects were destroyed so far
// In both error cases a probe object with a destructor is live when the
// error starts; the test checks that its destructor ran before the error
// reached PostgreSQL.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include "colcrypt/core/error.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_boundary_selftest);
}

namespace {

int probes_destroyed = 0;

struct Probe {
    ~Probe() { probes_destroyed++; }
};

}  // namespace

extern "C" Datum colcrypt_boundary_selftest(PG_FUNCTION_ARGS) {
    using namespace colcrypt;
    char *direction = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (strcmp(direction, "cxx-exception") == 0) {
        pg::cpp_guard([] {
            Probe probe;
            throw core::Error(core::Errc::invalid_argument, "boundary self-test: C++ exception");
        });
    } else if (strcmp(direction, "pg-error") == 0) {
        pg::cpp_guard([] {
            Probe probe;
            pg::pg_guard([] { (void) DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
        });
    } else if (strcmp(direction, "destructors") != 0) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown self-test \"%s\"", direction),
                        errhint("Use cxx-exception, pg-error or destructors.")));
    }
    PG_RETURN_INT32(probes_destroyed);
}
