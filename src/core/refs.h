/*
 * refs.h - blob reference counts: a blob's refcount is the number of
 * versions and renditions that point at it. Call inside the transaction
 * that adds or removes the reference.
 */
#ifndef DAM_CORE_REFS_H
#define DAM_CORE_REFS_H

#include <stdint.h>

#include "core/library.h"

int refs_add(struct dam *dam, const char *key, uint64_t size, struct dam_err *err);
int refs_drop(struct dam *dam, const char *key, struct dam_err *err);

#endif
