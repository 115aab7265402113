/*
** sanitize.h: the secret sanitizer's C API, for the other C files of dana.core
** (print/log/error/audit redaction, host-function boundaries).
**
** Two layers:
**
**  - Shape detection: dana_sanitize_text() masks, inside any text, the parts
**    that are credentials by their shape (provider key formats, JWTs checked
**    structurally, Authorization headers, PEM private keys, passwords in URLs
**    and connection strings, key=value pairs with a sensitive key).  It never
**    masks on entropy alone.
**
**  - Registered secrets: a DanaSecretSet holds exact values (for example the
**    values an agent stored under sensitive keys or in private:/system:), and
**    every occurrence of any of them is masked too, the way CI systems mask
**    registered secrets in logs.
**
** The mask is DANA_SANITIZE_MASK ("[REDACTED]"); only the matched part of the
** text is replaced, and no character of a secret is kept (with
** DANA_SAN_KEEP_PREFIX, a public type prefix such as "ghp_" or "sk_live_" is
** kept in front of the mask).
**
** Nothing here uses C globals or Lua objects besides the caller's luaL_Buffer;
** a DanaSecretSet is plain malloc'ed memory owned by whoever created it (for
** example an agent record) and can be used from any lua_State.
*/
#ifndef DANA_SANITIZE_H
#define DANA_SANITIZE_H

#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"

#define DANA_SANITIZE_MASK "[REDACTED]"

/* Default cap on table nesting for dana_sanitize_push_value / sanitize(). */
#if !defined(DANA_SANITIZE_MAX_DEPTH)
#define DANA_SANITIZE_MAX_DEPTH 64
#endif

/* Registered values shorter than this are ignored (too many false hits). */
#define DANA_SECRET_MIN_LEN 6

/* Flags for the *_ex functions. */
#define DANA_SAN_KEEP_PREFIX 1u   /* keep a public prefix such as "ghp_" */

/* ---- registered secrets ---- */
typedef struct DanaSecretSet DanaSecretSet;

/* A new empty set, or NULL when out of memory. */
DanaSecretSet *dana_secretset_new(void);
/* Frees the set and its copies of the values; NULL is accepted. */
void dana_secretset_free(DanaSecretSet *set);
/* Adds a copy of the n bytes at s.  Returns 1 when added, 0 when ignored
** (shorter than DANA_SECRET_MIN_LEN, or already present), -1 when out of
** memory (the set is unchanged). */
int dana_secretset_add(DanaSecretSet *set, const char *s, size_t n);
/* Forgets every value (the set stays usable). */
void dana_secretset_clear(DanaSecretSet *set);
/* Number of values held. */
size_t dana_secretset_count(const DanaSecretSet *set);

/* ---- text ---- */

/* Appends to out the text s[0..n) with every secret shape and every
** occurrence of a value of reg (may be NULL) replaced by the mask.  Returns
** the number of masked ranges (0: the text was appended unchanged).  Only
** luaL_addlstring is called on out, so the usual luaL_Buffer stack discipline
** holds; it may raise a memory error through out's lua_State. */
size_t dana_sanitize_text(const char *s, size_t n, luaL_Buffer *out,
                          const DanaSecretSet *reg);
size_t dana_sanitize_text_ex(const char *s, size_t n, luaL_Buffer *out,
                             const DanaSecretSet *reg, unsigned flags);

/* Returns 1 when s[0..n) has anything to mask (shape or registered value),
** without building anything; for a cheap "is it clean?" test. */
int dana_sanitize_text_dirty(const char *s, size_t n, const DanaSecretSet *reg);

/* Pushes the sanitized text: the original string object when nothing had to
** be masked (no copy), a new string otherwise.  Returns the number of masked
** ranges.  Uses one extra stack slot plus a luaL_Buffer. */
size_t dana_sanitize_push_text(lua_State *L, const char *s, size_t n,
                               const DanaSecretSet *reg);

/* ---- keys ---- */

/* Sensitivity class of a key name ("password", "apiKey", "x-auth-token").
** 0: not sensitive (also metadata keys such as max_tokens, token_count,
** tokenizer, author, key_name, public_key, auth_url, token_id);
** nonzero: values under this key are secret. */
#define DANA_KEY_PLAIN    0
#define DANA_KEY_PASSWORD 1   /* password-like: any value is the secret */
#define DANA_KEY_TOKEN    2   /* token / key / secret / credential */
#define DANA_KEY_AUTH     3   /* authorization: "<scheme> <credentials>" */
#define DANA_KEY_COOKIE   4
int dana_sanitize_key_class(const char *k, size_t n);

/* ---- values ---- */

/* Pushes a sanitized deep copy of the value at idx with the defaults of
** dana.sanitize (shared = 1 drops private/system of a context-like table;
** pass 0 to keep them), masking registered values of reg (may be NULL) too.
** Raw access only: no metamethod of the input runs.  May raise (memory). */
void dana_sanitize_push_value(lua_State *L, int idx, const DanaSecretSet *reg,
                              int shared);

#endif
