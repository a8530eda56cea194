// Header firewall: the core is plain C++ and must never see PostgreSQL.
//
// Every file under src/core includes this header last.  If a PostgreSQL
// header was pulled in before it (directly or through another include), the
// build stops here instead of quietly coupling the core to the server.
#pragma once

#ifdef POSTGRES_H
#error "colcrypt core files must not include postgres.h"
#endif
#ifdef PG_VERSION_NUM
#error "colcrypt core files must not include PostgreSQL headers"
#endif
