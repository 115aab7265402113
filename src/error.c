/*
** error.c: error records.
** An error record is a plain table {kind, message, file, line, col, source_line}
** with the "dana.Error" metatable, whose __tostring gives
**   file:line:col: Kind: message
**   <source line>
**   <caret under col>
*/
#include <string.h>

#include "dana_internal.h"

#define ERROR_MT "dana.Error"

static const char *field_string(lua_State *L, int idx, const char *name) {
  const char *s;
  lua_getfield(L, idx, name);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);  /* the table still anchors the string */
  return s;
}

static lua_Integer field_int(lua_State *L, int idx, const char *name) {
  lua_Integer v;
  lua_getfield(L, idx, name);
  v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
  lua_pop(L, 1);
  return v;
}

/***
Formats an error record.
@function __tostring
@treturn string "file:line:col: Kind: message", then the source line and a caret when known
*/
static int error_tostring(lua_State *L) {
  luaL_Buffer b;
  const char *kind, *msg, *file, *src;
  lua_Integer line, col;
  luaL_checktype(L, 1, LUA_TTABLE);
  kind = field_string(L, 1, "kind");
  msg = field_string(L, 1, "message");
  file = field_string(L, 1, "file");
  src = field_string(L, 1, "source_line");
  line = field_int(L, 1, "line");
  col = field_int(L, 1, "col");
  luaL_buffinit(L, &b);
  if (file) {
    luaL_addstring(&b, file);
    luaL_addchar(&b, ':');
    if (line > 0) {
      lua_pushfstring(L, "%I:", (LUAI_UACINT)line);
      luaL_addvalue(&b);
      if (col > 0) {
        lua_pushfstring(L, "%I:", (LUAI_UACINT)col);
        luaL_addvalue(&b);
      }
    }
    luaL_addchar(&b, ' ');
  }
  luaL_addstring(&b, kind ? kind : "Error");
  luaL_addstring(&b, ": ");
  luaL_addstring(&b, msg ? msg : "");
  if (src && line > 0) {
    lua_Integer i;
    luaL_addchar(&b, '\n');
    luaL_addstring(&b, src);
    if (col > 0) {
      luaL_addchar(&b, '\n');
      /* keep tabs so the caret lines up under a tab-indented source line */
      for (i = 1; i < col && src[i - 1] != '\0'; i++)
        luaL_addchar(&b, src[i - 1] == '\t' ? '\t' : ' ');
      luaL_addchar(&b, '^');
    }
  }
  luaL_pushresult(&b);
  return 1;
}

void dana_error_push(lua_State *L, const char *kind, const char *message,
                     const char *file, int line, int col) {
  luaL_checkstack(L, 4, "error record");
  lua_createtable(L, 0, 6);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, message ? message : "");
  lua_setfield(L, -2, "message");
  if (file) {
    lua_pushstring(L, file);
    lua_setfield(L, -2, "file");
  }
  if (line > 0) {
    lua_pushinteger(L, line);
    lua_setfield(L, -2, "line");
  }
  if (col > 0) {
    lua_pushinteger(L, col);
    lua_setfield(L, -2, "col");
  }
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "code");
  luaL_setmetatable(L, ERROR_MT);
}

/***
Makes an error record (used by the Lua side: translator, CLI).
@function error_record
@tparam string kind e.g. "SyntaxError"
@tparam string message
@tparam[opt] string file
@tparam[opt] int line
@tparam[opt] int col
@tparam[opt] string source_line
@treturn table the record
*/
static int core_error_record(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  const char *msg = luaL_checkstring(L, 2);
  const char *file = luaL_optstring(L, 3, NULL);
  lua_Integer line = luaL_optinteger(L, 4, 0);
  lua_Integer col = luaL_optinteger(L, 5, 0);
  const char *src = luaL_optstring(L, 6, NULL);
  luaL_argcheck(L, line >= 0 && line <= 0x7fffffff, 4, "line out of range");
  luaL_argcheck(L, col >= 0 && col <= 0x7fffffff, 5, "col out of range");
  dana_error_push(L, kind, msg, file, (int)line, (int)col);
  if (src) {
    lua_pushstring(L, src);
    lua_setfield(L, -2, "source_line");
  }
  return 1;
}

/***
True when v is an error record.
@function is_error
*/
static int core_is_error(lua_State *L) {
  int yes = 0;
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, ERROR_MT);
    yes = lua_rawequal(L, -1, -2);
  }
  lua_pushboolean(L, yes);
  return 1;
}

void dana_error_open(lua_State *L) {
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, ERROR_MT);
    lua_setfield(L, -2, "__name");
  }
  lua_setfield(L, -2, "Error");
  lua_pushcfunction(L, core_error_record);
  lua_setfield(L, -2, "error_record");
  lua_pushcfunction(L, core_is_error);
  lua_setfield(L, -2, "is_error");
}
