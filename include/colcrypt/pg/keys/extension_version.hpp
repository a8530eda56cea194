// The SQL version of colcrypt installed in this database.
//
// One library serves databases at every released SQL version until each
// runs ALTER EXTENSION colcrypt UPDATE (docs/releasing.md): code that needs
// an object only a newer script creates asks here first, and keeps the old
// behaviour where the database is older.
#pragma once

namespace colcrypt::pg {

// Whether the installed version is major.minor or later (false when
// colcrypt is not installed in this database).
bool extension_version_at_least(int major, int minor);

}  // namespace colcrypt::pg
