// The one place the PostgreSQL layer includes server headers.
//
// PostgreSQL headers are C; C++ code must see them with C linkage.  Every
// file under src/pg includes this first.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}
