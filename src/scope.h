/* scope.h: the C scope store (see scope.c). */
#ifndef DANA_SCOPE_H
#define DANA_SCOPE_H

#include "dana_internal.h"

typedef struct DanaScope DanaScope;

DanaScope *dana_scope_new(void);
void dana_scope_free(DanaScope *s);
void dana_scope_clear(DanaScope *s);
/* The stored blob, or NULL. Valid until the next put/delete of that scope. */
const DanaBlob *dana_scope_get(const DanaScope *s, const char *name, size_t n);
/* Takes ownership of blob->data (leaves *blob empty). Returns 0 when out of memory. */
int dana_scope_put(DanaScope *s, const char *name, size_t n, DanaBlob *blob);
int dana_scope_delete(DanaScope *s, const char *name, size_t n);
size_t dana_scope_bytes(const DanaScope *s);
size_t dana_scope_count(const DanaScope *s);
/* Iterates: *iter starts at 0. */
int dana_scope_next(const DanaScope *s, size_t *iter, const char **name, size_t *n,
                    const DanaBlob **blob);

#endif
