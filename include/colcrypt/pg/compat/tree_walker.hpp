// Passing a C++ function to PostgreSQL's expression and query tree walkers.
//
// PostgreSQL 15 declares the walker parameter as a function without a
// prototype, bool (*)(); 16 names a type with the real signature.  C++ has
// no unprototyped functions, so on 15 the walker goes through void (*)(),
// the cast GCC and clang accept between function types.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

#if PG_VERSION_NUM < 160000
#define COLCRYPT_TREE_WALKER(fn) reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(fn))
#else
#define COLCRYPT_TREE_WALKER(fn) (fn)
#endif
