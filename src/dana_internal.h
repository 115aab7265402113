/*
** dana_internal.h: prototypes shared by the C files of dana.core.
** Nothing here is part of the public host API (that is dana.h).
*/
#ifndef DANA_INTERNAL_H
#define DANA_INTERNAL_H

#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"

/* A function that never returns (l_noret is internal to Lua). */
#if defined(__GNUC__)
#define DANA_NORET void __attribute__((noreturn))
#else
#define DANA_NORET void
#endif

/* ---- module openers, called in this order by luaopen_dana_core (core.c) ----
** Each takes the module table at the top of the stack, adds its fields to it
** and leaves the stack as it found it. */
void dana_error_open(lua_State *L);    /* error.c: error records, "dana.Error" */
void dana_value_open(lua_State *L);    /* value.c: copy codec across states */
void dana_context_open(lua_State *L);  /* context.c: sandboxes and agents */
void dana_policy_open(lua_State *L);   /* policy.c: permission decision core */
void dana_audit_open(lua_State *L);    /* audit.c: hash-chained audit writer */
void dana_sanitize_open(lua_State *L); /* sanitize.c: secret masking */
void dana_vlib_open(lua_State *L);     /* vlib.c: exposes _vlib = {string=, table=} for specs */
void dana_lexer_open(lua_State *L);    /* lexer.c: lex_scan, the C fast path of dana.lexer.scan */

/* ---- limits, usable from any C function running inside an agent state ----
** dana_limits_poll raises the agent's (sticky) limit error if a limit has
** tripped (for example the watchdog's deadline); C loops that can run long
** must call it every few thousand steps. It is a no-op in a non-agent state. */
void dana_limits_poll(lua_State *L);
/* Nonzero when L is an agent state whose limit has tripped (no raise): for C
** loops that must clean up before they return. */
int dana_limits_stopped(lua_State *L);
/* Bytes the agent may still allocate before its memory limit; SIZE_MAX when
** L is not an agent state. Use it to refuse a huge result before building it. */
size_t dana_limits_room(lua_State *L);
/* Refuses a result that cannot fit: in an agent state this trips the sticky
** memory limit; elsewhere it raises "<what>: result would exceed the memory limit". */
DANA_NORET dana_limits_refuse_memory(lua_State *L, const char *what);

/* ---- the vetted library (vlib.c) for agent states ----
** Each pushes a NEW table of functions safe for untrusted code. */
void dana_vlib_push_string(lua_State *L); /* no dump; interruptible patterns; capped rep/format */
void dana_vlib_push_table(lua_State *L);  /* interruptible/capped concat, insert, remove, move, sort, unpack */

/* ---- error records (error.c) ----
** Pushes an error record table {kind=, message=, file=, line=, col=} with the
** "dana.Error" metatable (its __tostring formats "file:line:col: Kind: message"). */
void dana_error_push(lua_State *L, const char *kind, const char *message,
                     const char *file, int line, int col);

/* ---- value codec (value.c): the only way values cross between states ---- */
typedef struct DanaBlob {
  unsigned char *data;
  size_t len;
} DanaBlob;

typedef struct DanaCodecLimits {
  int max_depth;        /* nesting depth of tables */
  size_t max_bytes;     /* encoded size */
  size_t max_items;     /* total number of table entries */
} DanaCodecLimits;

/* Encodes the value at idx. On failure returns 0 and writes a message to err
** (errlen bytes). Functions, userdata, threads, cycles, tables with a
** metatable that is not a registered type, and too deep or too big values are
** refused. The blob's data is malloc'ed; free it with dana_blob_free. */
int dana_value_encode(lua_State *L, int idx, const DanaCodecLimits *lim,
                      DanaBlob *out, char *err, size_t errlen);
/* Pushes the decoded value. May raise (memory) in L: call it under a pcall
** when L is an agent state. */
void dana_value_decode(lua_State *L, const unsigned char *data, size_t len);
void dana_blob_free(DanaBlob *b);
/* The error kind for a refusal message of dana_value_encode: TypeError for a
** value of a type that cannot cross, ValueError for a cycle or a size cap. */
const char *dana_value_refusal_kind(const char *why);
/* Registers, in L, the metatable at mt_idx as the type tagged by the string at name_idx. */
void dana_value_register_type(lua_State *L, int name_idx, int mt_idx);

#endif
