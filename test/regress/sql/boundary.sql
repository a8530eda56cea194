-- The C++/PostgreSQL error boundary, provoked in both directions.
CREATE EXTENSION colcrypt;

-- No probe object destroyed yet.
SELECT colcrypt._boundary_selftest('destructors');

-- A C++ exception inside cpp_guard becomes an ERROR with the mapped SQLSTATE.
SELECT colcrypt._boundary_selftest('cxx-exception');
\echo :LAST_ERROR_SQLSTATE

-- A PostgreSQL ERROR raised inside C++ code travels as an exception and is
-- re-raised unchanged (division_by_zero, 22012).
SELECT colcrypt._boundary_selftest('pg-error');
\echo :LAST_ERROR_SQLSTATE

-- Both probes were destroyed: no longjmp skipped a C++ destructor.
SELECT colcrypt._boundary_selftest('destructors');

-- The session is healthy afterwards.
SELECT 1 AS still_alive;

SELECT colcrypt._boundary_selftest('nonsense');
\echo :LAST_ERROR_SQLSTATE
