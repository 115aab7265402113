/*
** access.c: scope keys and who may touch them.
** A key is "scope:name" (or "scope.name", the host API's alias). The scopes in
** the store are private (per agent), public and system (per tenant); local:
** lives in the code. The decision is deny by default.
*/
#include <string.h>

#include "access.h"

#define MAX_NAME 255

static int is_name(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > MAX_NAME) return 0;
  if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return 0;
  for (i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

const char *dana_scope_name(DanaScopeId s) {
  switch (s) {
    case SCOPE_PRIVATE: return "private";
    case SCOPE_PUBLIC: return "public";
    case SCOPE_SYSTEM: return "system";
    case SCOPE_LOCAL: return "local";
    default: return "?";
  }
}

const char *dana_parse_key(const char *key, size_t len, DanaKey *out) {
  size_t i, sl = 0;
  const char *sep = NULL;
  for (i = 0; i < len; i++) {
    if (key[i] == ':' || key[i] == '.') {
      sep = key + i;
      sl = i;
      break;
    }
  }
  if (sep == NULL) return "a scope key looks like 'private:name' (scopes: private, public, system)";
  if (sl == 7 && memcmp(key, "private", 7) == 0) out->scope = SCOPE_PRIVATE;
  else if (sl == 6 && memcmp(key, "public", 6) == 0) out->scope = SCOPE_PUBLIC;
  else if (sl == 6 && memcmp(key, "system", 6) == 0) out->scope = SCOPE_SYSTEM;
  else if (sl == 5 && memcmp(key, "local", 5) == 0)
    return "local: variables live in the running code, not in the scope store";
  else return "unknown scope (scopes: private, public, system)";
  out->name = sep + 1;
  out->namelen = len - sl - 1;
  if (!is_name(out->name, out->namelen))
    return "a scope variable name is an identifier: letters, digits and '_', at most 255 bytes";
  return NULL;
}

static int in_limited(const DanaSandbox *sb, const char *name, size_t n) {
  size_t i;
  for (i = 0; i < sb->nlimited; i++)
    if (strlen(sb->limited[i]) == n && memcmp(sb->limited[i], name, n) == 0) return 1;
  return 0;
}

int dana_access_allowed(const DanaAgent *a, DanaScopeId scope, DanaAccessOp op,
                        const char *name, size_t n) {
  switch (a->role_kind) {
    case ROLE_ADMIN:
      return 1;                                   /* *:* */
    case ROLE_AGENT:
      if (scope == SCOPE_PRIVATE) return 1;       /* private:own */
      if (scope == SCOPE_PUBLIC) return 1;        /* public:* */
      if (scope == SCOPE_SYSTEM)                  /* system:read:limited */
        return op == ACCESS_READ && in_limited(a->sb, name, n);
      return 0;
    case ROLE_USER:
      if (scope == SCOPE_PRIVATE) return 1;       /* private:own */
      if (scope == SCOPE_PUBLIC) return op == ACCESS_READ;  /* public:read */
      return 0;
    default:
      return 0;                                   /* deny by default */
  }
}

const char *dana_access_op_name(DanaAccessOp op) {
  switch (op) {
    case ACCESS_READ: return "read";
    case ACCESS_WRITE: return "write";
    case ACCESS_DELETE: return "delete";
    default: return "?";
  }
}
