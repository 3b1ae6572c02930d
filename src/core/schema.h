/* schema.h - the embedded, numbered schema migrations (see db_migrate). */
#ifndef DAM_CORE_SCHEMA_H
#define DAM_CORE_SCHEMA_H

/* The migrations in order; *n is how many. Static storage, never freed. */
const char *const *schema_migrations(int *n);

#endif
