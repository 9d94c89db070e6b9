#ifndef HIREWIRE_CSQLITE_SHIM_H
#define HIREWIRE_CSQLITE_SHIM_H
#include <sqlite3.h>

/* SQLITE_STATIC and SQLITE_TRANSIENT are macros casting a number to a function pointer, and
   sqlite3_config is variadic: Swift imports neither, so they are wrapped here. */

/* Binds text the caller keeps alive and unchanged until the statement is reset: no copy. An
   empty text binds a static empty string (a NULL pointer would bind SQL NULL). */
static inline int hirewire_bind_text_static(sqlite3_stmt *statement, int index, const unsigned char *text, int length) {
    if (length == 0) return sqlite3_bind_text(statement, index, "", 0, SQLITE_STATIC);
    return sqlite3_bind_text(statement, index, (const char *)text, length, SQLITE_STATIC);
}

/* Process-wide settings, before the first connection opens (sqlite3_config is variadic): no
   memory statistics, whose global mutex every allocation inside SQLite otherwise takes. Returns
   SQLITE_MISUSE, harmlessly, when the library was initialized already. */
static inline int hirewire_sqlite_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
