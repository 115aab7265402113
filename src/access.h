/* access.h: scope keys and access decisions (see access.c). */
#ifndef DANA_ACCESS_H
#define DANA_ACCESS_H

#include "context.h"

typedef enum DanaScopeId { SCOPE_LOCAL = 1, SCOPE_PRIVATE, SCOPE_PUBLIC, SCOPE_SYSTEM } DanaScopeId;
typedef enum DanaAccessOp { ACCESS_READ = 1, ACCESS_WRITE, ACCESS_DELETE } DanaAccessOp;

typedef struct DanaKey {
  DanaScopeId scope;
  const char *name;     /* points into the key string */
  size_t namelen;
} DanaKey;

/* NULL on success, else a message saying what a key looks like. */
const char *dana_parse_key(const char *key, size_t len, DanaKey *out);
const char *dana_scope_name(DanaScopeId s);
const char *dana_access_op_name(DanaAccessOp op);
/* 1 when the agent's role may do op on scope:name. */
int dana_access_allowed(const DanaAgent *a, DanaScopeId scope, DanaAccessOp op,
                        const char *name, size_t n);

#endif
