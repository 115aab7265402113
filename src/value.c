/*
** value.c: the copy codec. Every value that crosses between two lua_States
** (scope store, host-function arguments and results, run results) is encoded
** here into a self-contained byte string and decoded in the other state, so
** no Lua object is ever shared and nothing aliases across agents.
**
** Format (one tag byte, then the payload):
**   'n' nil   'f' false   't' true
**   'i' int64, 8 bytes little endian     'd' double, 8 bytes (IEEE, little endian)
**   's' varint length, bytes
**   'T' varint count, then count (key, value) pairs
**   'G' varint tag length, tag bytes, then a 'T' table (a registered type)
*/
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "dana_internal.h"

#define TYPES_BY_MT   "dana.types.bymt"    /* registry: metatable -> tag */
#define TYPES_BY_NAME "dana.types.byname"  /* registry: tag -> metatable */
#define HOST_DECODERS "dana.types.decoders" /* registry: tag -> function(raw) */

typedef struct Enc {
  lua_State *L;
  const DanaCodecLimits *lim;
  unsigned char *buf;
  size_t len, cap;
  size_t items;
  const void **path;   /* tables on the current encoding path (cycle check) */
  int depth;
  char *err;
  size_t errlen;
  int failed;
} Enc;

static int enc_fail(Enc *e, const char *msg) {
  if (!e->failed) {
    size_t n = strlen(msg);
    if (n >= e->errlen) n = e->errlen - 1;
    memcpy(e->err, msg, n);
    e->err[n] = '\0';
    e->failed = 1;
  }
  return 0;
}

static int enc_reserve(Enc *e, size_t more) {
  size_t need, ncap;
  unsigned char *nb;
  if (more > SIZE_MAX - e->len) return enc_fail(e, "value too large to copy");
  need = e->len + more;
  if (need > e->lim->max_bytes) return enc_fail(e, "value too large to copy (size limit)");
  if (need <= e->cap) return 1;
  ncap = e->cap ? e->cap : 64;
  while (ncap < need) ncap = (ncap > SIZE_MAX / 2) ? need : ncap * 2;
  nb = (unsigned char *)realloc(e->buf, ncap);
  if (nb == NULL) return enc_fail(e, "out of memory while copying a value");
  e->buf = nb;
  e->cap = ncap;
  return 1;
}

static int enc_byte(Enc *e, unsigned char c) {
  if (!enc_reserve(e, 1)) return 0;
  e->buf[e->len++] = c;
  return 1;
}

static int enc_varint(Enc *e, size_t v) {
  if (!enc_reserve(e, 10)) return 0;
  do {
    unsigned char c = (unsigned char)(v & 0x7f);
    v >>= 7;
    e->buf[e->len++] = (unsigned char)(c | (v ? 0x80 : 0));
  } while (v);
  return 1;
}

static int enc_u64(Enc *e, uint64_t v) {
  int i;
  if (!enc_reserve(e, 8)) return 0;
  for (i = 0; i < 8; i++) e->buf[e->len++] = (unsigned char)(v >> (8 * i));
  return 1;
}

static int enc_bytes(Enc *e, const char *s, size_t n) {
  if (!enc_varint(e, n) || !enc_reserve(e, n)) return 0;
  memcpy(e->buf + e->len, s, n);
  e->len += n;
  return 1;
}

static int enc_value(Enc *e, int idx);

/* Encodes the table at idx (absolute); the caller has written the tag. */
static int enc_table(Enc *e, int idx) {
  lua_State *L = e->L;
  size_t count = 0, count_pos;
  int i;
  const void *p = lua_topointer(L, idx);
  for (i = 0; i < e->depth; i++)
    if (e->path[i] == p) return enc_fail(e, "cannot copy a cyclic table");
  if (e->depth >= e->lim->max_depth) return enc_fail(e, "value nested too deeply to copy");
  e->path[e->depth++] = p;
  /* the count is patched in afterwards: reserve a fixed 10-byte varint */
  if (!enc_reserve(e, 10)) return 0;
  count_pos = e->len;
  e->len += 10;
  if (!lua_checkstack(L, 3)) return enc_fail(e, "value nested too deeply to copy");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    if (kt != LUA_TSTRING && kt != LUA_TNUMBER && kt != LUA_TBOOLEAN) {
      lua_pop(L, 2);
      return enc_fail(e, "cannot copy a table key that is not a string, number or boolean");
    }
    if (++e->items > e->lim->max_items) {
      lua_pop(L, 2);
      return enc_fail(e, "value has too many items to copy");
    }
    /* a copy of millions of items is one long C call: stop when a limit trips */
    if ((e->items & 4095) == 0 && dana_limits_stopped(L)) {
      lua_pop(L, 2);
      return enc_fail(e, "copy interrupted by a limit");
    }
    if (!enc_value(e, lua_absindex(L, -2)) || !enc_value(e, lua_absindex(L, -1))) {
      lua_pop(L, 2);
      return 0;
    }
    lua_pop(L, 1);
    count++;
  }
  for (i = 0; i < 10; i++) {  /* padded varint: continuation bits on the first 9 */
    e->buf[count_pos + (size_t)i] = (unsigned char)(((count >> (7 * i)) & 0x7f) | (i < 9 ? 0x80 : 0));
  }
  e->depth--;
  return 1;
}

static int enc_value(Enc *e, int idx) {
  lua_State *L = e->L;
  if (e->failed) return 0;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return enc_byte(e, 'n');
    case LUA_TBOOLEAN: return enc_byte(e, lua_toboolean(L, idx) ? 't' : 'f');
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        return enc_byte(e, 'i') && enc_u64(e, (uint64_t)lua_tointeger(L, idx));
      } else {
        double d = (double)lua_tonumber(L, idx);
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        return enc_byte(e, 'd') && enc_u64(e, u);
      }
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return enc_byte(e, 's') && enc_bytes(e, s, n);
    }
    case LUA_TTABLE: {
      if (lua_getmetatable(L, idx)) {
        const char *tag;
        size_t taglen;
        if (lua_getfield(L, LUA_REGISTRYINDEX, TYPES_BY_MT) != LUA_TTABLE) {
          lua_pop(L, 2);
          return enc_fail(e, "cannot copy a table with a metatable");
        }
        lua_pushvalue(L, -2);
        lua_rawget(L, -2);
        if (lua_type(L, -1) != LUA_TSTRING) {
          lua_pop(L, 3);
          return enc_fail(e, "cannot copy a table with a metatable");
        }
        tag = lua_tolstring(L, -1, &taglen);
        if (!enc_byte(e, 'G') || !enc_bytes(e, tag, taglen)) {
          lua_pop(L, 3);
          return 0;
        }
        lua_pop(L, 3);
      }
      return enc_byte(e, 'T') && enc_table(e, idx);
    }
    default: {
      char msg[80];
      strcpy(msg, "cannot copy a ");
      strcat(msg, lua_typename(L, lua_type(L, idx)));
      strcat(msg, " value");
      return enc_fail(e, msg);
    }
  }
}

int dana_value_encode(lua_State *L, int idx, const DanaCodecLimits *lim,
                      DanaBlob *out, char *err, size_t errlen) {
  Enc e;
  const void *path_small[64];
  const void **path = path_small;
  idx = lua_absindex(L, idx);
  memset(&e, 0, sizeof e);
  e.L = L;
  e.lim = lim;
  e.err = err;
  e.errlen = errlen;
  if (lim->max_depth > 64) {
    path = (const void **)malloc(sizeof(void *) * (size_t)lim->max_depth);
    if (path == NULL) {
      enc_fail(&e, "out of memory while copying a value");
      return 0;
    }
  }
  e.path = path;
  enc_value(&e, idx);
  if (path != path_small) free(path);
  if (e.failed) {
    free(e.buf);
    out->data = NULL;
    out->len = 0;
    return 0;
  }
  out->data = e.buf;
  out->len = e.len;
  return 1;
}

const char *dana_value_refusal_kind(const char *why) {
  /* the type of the value is wrong, or its size/shape is */
  if (strstr(why, "cannot copy a table key") || strstr(why, "metatable") ||
      (strstr(why, "cannot copy a ") && strstr(why, " value")))
    return "TypeError";
  return "ValueError";
}

void dana_blob_free(DanaBlob *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

/* ---- decoding ---- */

typedef struct Dec {
  lua_State *L;
  const unsigned char *p, *end;
  int depth;
} Dec;

static DANA_NORET dec_bad(Dec *d) {
  luaL_error(d->L, "malformed value blob");
  abort();  /* not reached: luaL_error does not return */
}

static size_t dec_varint(Dec *d) {
  size_t v = 0;
  int shift = 0;
  for (;;) {
    unsigned char c;
    if (d->p >= d->end || shift > 63) dec_bad(d);
    c = *d->p++;
    v |= (size_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
    shift += 7;
  }
}

static uint64_t dec_u64(Dec *d) {
  uint64_t v = 0;
  int i;
  if (d->end - d->p < 8) dec_bad(d);
  for (i = 0; i < 8; i++) v |= (uint64_t)d->p[i] << (8 * i);
  d->p += 8;
  return v;
}

static void dec_value(Dec *d);

static void dec_table(Dec *d) {
  lua_State *L = d->L;
  size_t n = dec_varint(d), i;
  if (++d->depth > 1000) luaL_error(L, "value nested too deeply to copy");
  luaL_checkstack(L, 4, "value nested too deeply to copy");
  /* every pair needs at least 2 bytes: bounds the preallocation */
  if (n > (size_t)(d->end - d->p) / 2) dec_bad(d);
  lua_createtable(L, 0, n > 0x7fffffff ? 0x7fffffff : (int)n);
  for (i = 0; i < n; i++) {
    if ((i & 4095) == 4095) dana_limits_poll(L);  /* may raise the agent's limit */
    dec_value(d);
    if (lua_isnil(L, -1)) dec_bad(d);
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) &&
        lua_tonumber(L, -1) != lua_tonumber(L, -1)) dec_bad(d);  /* NaN key */
    dec_value(d);
    lua_rawset(L, -3);
  }
  d->depth--;
}

static void dec_value(Dec *d) {
  lua_State *L = d->L;
  unsigned char tag;
  if (d->p >= d->end) dec_bad(d);
  tag = *d->p++;
  switch (tag) {
    case 'n': lua_pushnil(L); break;
    case 'f': lua_pushboolean(L, 0); break;
    case 't': lua_pushboolean(L, 1); break;
    case 'i': lua_pushinteger(L, (lua_Integer)dec_u64(d)); break;
    case 'd': {
      uint64_t u = dec_u64(d);
      double v;
      memcpy(&v, &u, sizeof v);
      lua_pushnumber(L, (lua_Number)v);
      break;
    }
    case 's': {
      size_t n = dec_varint(d);
      if (n > (size_t)(d->end - d->p)) dec_bad(d);
      lua_pushlstring(L, (const char *)d->p, n);
      d->p += n;
      break;
    }
    case 'T': dec_table(d); break;
    case 'G': {
      size_t n = dec_varint(d);
      const char *tagname;
      if (n > (size_t)(d->end - d->p)) dec_bad(d);
      tagname = (const char *)d->p;
      d->p += n;
      if (d->p >= d->end || *d->p++ != 'T') dec_bad(d);
      dec_table(d);
      luaL_checkstack(L, 4, "decoding a value");
      lua_pushlstring(L, tagname, n);
      if (lua_getfield(L, LUA_REGISTRYINDEX, TYPES_BY_NAME) == LUA_TTABLE) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, -2) == LUA_TTABLE) {  /* a state that knows the type */
          lua_setmetatable(L, -4);
          lua_pop(L, 2);
          break;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);  /* -> raw, tag */
      if (lua_getfield(L, LUA_REGISTRYINDEX, HOST_DECODERS) == LUA_TTABLE) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, -2) == LUA_TFUNCTION) {  /* host decoder: f(raw, tag) */
          lua_pushvalue(L, -4);
          lua_pushvalue(L, -4);
          lua_call(L, 2, 1);
          lua_replace(L, -4);
          lua_pop(L, 2);
          break;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 2);  /* unknown tag: the raw contents */
      break;
    }
    default: dec_bad(d);
  }
}

void dana_value_decode(lua_State *L, const unsigned char *data, size_t len) {
  Dec d;
  d.L = L;
  d.p = data;
  d.end = data + len;
  d.depth = 0;
  dec_value(&d);
  if (d.p != d.end) dec_bad(&d);
}

/* ---- Lua API ---- */

static const DanaCodecLimits default_limits = { 64, (size_t)64 << 20, (size_t)1 << 22 };

/***
Encodes a value with the copy codec (for specs and tools).
@function encode
@param v
@treturn[1] string blob
@treturn[2] nil
@treturn[2] string message
@treturn[2] string "ECOPY"
*/
static int core_encode(lua_State *L) {
  DanaBlob b;
  char err[160];
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  if (!dana_value_encode(L, 1, &default_limits, &b, err, sizeof err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    lua_pushliteral(L, "ECOPY");
    return 3;
  }
  lua_pushlstring(L, (const char *)b.data, b.len);
  dana_blob_free(&b);
  return 1;
}

/***
Decodes a blob made by encode (malformed blobs raise an error).
@function decode
@tparam string blob
*/
static int core_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  dana_value_decode(L, (const unsigned char *)s, n);
  return 1;
}

/***
Registers a host decoder for a type tag: f(raw_table, tag) -> value.
@function set_host_decoder
*/
static int core_set_host_decoder(lua_State *L) {
  luaL_checkstring(L, 1);
  if (!lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (lua_getfield(L, LUA_REGISTRYINDEX, HOST_DECODERS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_DECODERS);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  return 0;
}

void dana_value_register_type(lua_State *L, int name_idx, int mt_idx) {
  name_idx = lua_absindex(L, name_idx);
  mt_idx = lua_absindex(L, mt_idx);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, TYPES_BY_MT);
  lua_pushvalue(L, mt_idx);
  lua_pushvalue(L, name_idx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, TYPES_BY_NAME);
  lua_pushvalue(L, name_idx);
  lua_pushvalue(L, mt_idx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void dana_value_open(lua_State *L) {
  lua_pushcfunction(L, core_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, core_decode);
  lua_setfield(L, -2, "decode");
  lua_pushcfunction(L, core_set_host_decoder);
  lua_setfield(L, -2, "set_host_decoder");
}
