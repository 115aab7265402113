/*
** dana.h: calls a C host can make before luaopen_dana_core.
*/
#ifndef DANA_H
#define DANA_H

#include "lua.h"

/* Default limits for sandboxes created in L afterwards (0 keeps the built-in default).
** They are stored in L's registry, so two lua_States never share them. */
void dana_set_default_limits(lua_State *L, size_t memory_bytes, double time_seconds,
                             long long instructions, int calls_per_minute,
                             size_t output_bytes);

LUAMOD_API int luaopen_dana_core(lua_State *L);

#endif
