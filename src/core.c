/*
** core.c: luaopen_dana_core, the one entry point of the C module. It calls
** each concern's opener in a fixed order; each adds its fields to the module
** table and leaves the stack as it found it.
*/
#include "dana.h"
#include "dana_internal.h"

/***
The C core of dana-sandbox. Use it through `require "dana"`.
@module dana.core
*/
LUAMOD_API int luaopen_dana_core(lua_State *L) {
  lua_newtable(L);
  dana_error_open(L);
  dana_value_open(L);
  dana_context_open(L);
  dana_policy_open(L);
  dana_audit_open(L);
  dana_sanitize_open(L);
  dana_vlib_open(L);
  dana_lexer_open(L);
  lua_pushliteral(L, "0.1.0");
  lua_setfield(L, -2, "version");
  return 1;
}
