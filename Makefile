# colcrypt build.
#
# PGXS owns the extension: the shared library, installation, pg_regress.
# CMake (CMakeLists.txt) owns the pure C++ core's unit tests.  Both take the
# sources from the same globs, the compiler flags from build/cxxflags and the
# version from colcrypt.control, so nothing is listed twice.
#
#   make                build colcrypt.so
#   make install        install it (as root, or through sudo)
#   make check          every test suite (test/run_all.sh lists them); one summary line
#   make demo           a throwaway server and a guided scenario
#   make unit           the C++ unit tests alone
#   make bench          the benchmark: colcrypt vs plaintext and pgcrypto (bench/results/)

EXTENSION  = colcrypt
MODULE_big = colcrypt
OBJS       = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp src/pg/*.cpp src/pg/*/*.cpp)))
# Every versioned script: the 0.1.0 install script and the update chain.
DATA       = $(sort $(wildcard sql/colcrypt--*.sql))

# pg_regress suites, in schedule order: test/regress/sql/NAME.sql against
# test/regress/expected/NAME.out ("make installcheck" on a server that
# preloads colcrypt; "make check" runs them on a throwaway one).
REGRESS      = $(shell sed -n 's/^test: *//p' test/regress/schedule)
REGRESS_OPTS = --inputdir=test/regress --temp-config=test/regress/regress.conf

PG_CONFIG  ?= pg_config
PG_CPPFLAGS = -I$(CURDIR)/include
# Optimised across the library's files, with calls between its own
# functions that the dynamic linker may not redirect (so they can be
# inlined): a value's seal or open crosses a dozen small functions in as
# many files (bench/notes.md: about 90 instructions per sealed value less).
OPTIMIZE    = -flto=auto -fno-semantic-interposition
PG_CXXFLAGS = $(shell cat $(CURDIR)/build/cxxflags) $(OPTIMIZE)
SHLIB_LINK  = -lcrypto -lstdc++
LDFLAGS_SL += $(OPTIMIZE)

# No LLVM bitcode for JIT inlining: it would need clang at build time and
# brings nothing to functions that spend their time in OpenSSL.  (Before the
# include: PGXS decides what to build while it is read.)
override with_llvm = no

# The goals below are this project's own and need nothing from PGXS, whose
# "check" would only say that it is unsupported: read PGXS for every other
# goal (all, install, installcheck, clean, ...).
OWN_GOALS = check demo unit bench
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(OWN_GOALS),$(MAKECMDGOALS)),)
ONLY_OWN_GOALS = 1
endif
endif

ifndef ONLY_OWN_GOALS
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
endif

$(OBJS): $(wildcard include/colcrypt/*/*.hpp include/colcrypt/*/*/*.hpp src/*/*.hpp) build/cxxflags

.PHONY: $(OWN_GOALS)

unit:
	cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/cmake -j2
	cd build/cmake && ctest --output-on-failure

# Defined only when asked for: PGXS's own "check" (which only says it is
# unsupported) would otherwise be overridden, with a warning, on every make.
ifneq ($(filter check,$(MAKECMDGOALS)),)
check:
	test/run_all.sh
endif

demo:
	scripts/demo.sh

bench:
	PG_CONFIG='$(PG_CONFIG)' bench/run.sh
