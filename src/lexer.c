/*
** lexer.c: core.lex_scan, a C fast path for dana.lexer.scan (lua/dana/lexer.lua).
**
** It is a faithful port of the Lua pre-pass (read that file's header for the
** output): on valid input it returns the very table the Lua code returns,
** {text=, ls=, lstart=, strs=, nlines=}; at every place where the Lua code
** calls fail() it returns false instead, and lexer.lua then runs the Lua
** implementation, which builds the exact error message and position. So this
** file only has to agree with the Lua code about which inputs are valid and
** about the result for those.
**
** Positions are 1-based lua_Integers as in the Lua code (at() returns -1, the
** Lua nil, outside 1..n). All memory is Lua-managed (userdata anchored on the
** stack), so a memory error or a limit error raised inside cannot leak.
*/
#include <string.h>
#include <stdint.h>
#include "dana_internal.h"

/* Deeper f-string nesting limits are left to the Lua code (C recursion). */
#define LEX_MAX_FDEPTH 200

enum { LX_SPECIAL = 1, LX_IDC = 2 };

/* LX_SPECIAL: the bytes that end a run of ordinary line content (lexer.lua's
** TO_SPECIAL: newline # ' " ( ) [ ] { } backslash, controls other than tab,
** form feed and CR, DEL and every non-ASCII byte). LX_IDC: [A-Za-z0-9_]. */
static const unsigned char lex_class[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
  0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 0, 2,
  0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 1, 0, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

typedef lua_Integer lpos;

typedef struct Lex {
  lua_State *L;
  const unsigned char *s;
  lpos n;
  unsigned char *out; /* the transformed text */
  size_t no, ocap;
  lpos copied;        /* source bytes before this are in out */
  lpos shift;         /* bytes inserted so far (markers) minus the BOM */
  lpos max_fdepth;
  lpos *pairs;        /* strs as (key, value) pairs, in registration order */
  size_t np, pcap;
  int pairs_idx;      /* stack slot of the userdata that holds pairs */
} Lex;

/* Return codes of the scanning functions. */
enum { LEX_OK = 0, LEX_FAIL = 1 };

static int at(const Lex *X, lpos p) {
  return (p >= 1 && p <= X->n) ? X->s[p - 1] : -1;
}

static int isidc(int c) {
  return c >= 0 && (lex_class[c] & LX_IDC);
}

static int is_rf(int c) {
  return c == 'r' || c == 'R' || c == 'f' || c == 'F';
}

static int is_prefix_char(int c) {
  return c == 'r' || c == 'R' || c == 'b' || c == 'B' || c == 'u' || c == 'U' ||
         c == 'f' || c == 'F';
}

/* Copy source bytes copied .. p-1 to the output. */
static int emit_upto(Lex *X, lpos p) {
  if (p > X->copied) {
    size_t len = (size_t)(p - X->copied);
    if (len > X->ocap - X->no) return LEX_FAIL; /* cannot happen: capacity is counted */
    memcpy(X->out + X->no, X->s + (X->copied - 1), len);
    X->no += len;
    X->copied = p;
  }
  return LEX_OK;
}

/* Replace source bytes p .. e-1 by spaces. */
static int blank(Lex *X, lpos p, lpos e) {
  if (emit_upto(X, p) != LEX_OK) return LEX_FAIL;
  if (e > p) {
    size_t len = (size_t)(e - p);
    if (len > X->ocap - X->no) return LEX_FAIL;
    memset(X->out + X->no, ' ', len);
    X->no += len;
  }
  X->copied = e;
  return LEX_OK;
}

static int put_bytes(Lex *X, int c, size_t k) {
  if (k > X->ocap - X->no) return LEX_FAIL;
  memset(X->out + X->no, c, k);
  X->no += k;
  return LEX_OK;
}

/* strs[k] = v, growing the pair array (a new userdata replaces the old one). */
static void reg_pair(Lex *X, lpos k, lpos v) {
  if (X->np == X->pcap) {
    size_t ncap = X->pcap ? X->pcap * 2 : 64;
    lpos *np;
    if (ncap > SIZE_MAX / (2 * sizeof(lpos))) luaL_error(X->L, "lex_scan: too many strings");
    np = (lpos *)lua_newuserdatauv(X->L, ncap * 2 * sizeof(lpos), 0);
    if (X->np) memcpy(np, X->pairs, X->np * 2 * sizeof(lpos));
    lua_replace(X->L, X->pairs_idx);
    X->pairs = np;
    X->pcap = ncap;
  }
  X->pairs[2 * X->np] = k;
  X->pairs[2 * X->np + 1] = v;
  X->np++;
}

/* A plain (or raw) literal whose quote ch is at q: the offset after it, 0 if
** unterminated. */
static lpos scan_plain(const Lex *X, lpos q, int triple, int ch) {
  const unsigned char *s = X->s;
  lpos n = X->n, p, j;
  if (triple) {
    p = q + 3;
    for (;;) {
      for (j = p; j <= n && s[j - 1] != '\\' && s[j - 1] != ch; j++) {}
      if (j > n) return 0;
      if (s[j - 1] == '\\') p = j + 2;
      else if (at(X, j + 1) == ch && at(X, j + 2) == ch) return j + 3;
      else p = j + 1;
    }
  }
  p = q + 1;
  for (;;) {
    int c;
    for (j = p; j <= n && s[j - 1] != '\\' && s[j - 1] != ch && s[j - 1] != '\n'; j++) {}
    if (j > n) return 0;
    c = s[j - 1];
    if (c == '\\') {
      if (at(X, j + 1) == 13 && at(X, j + 2) == '\n') p = j + 3;
      else p = j + 2;
    } else if (c == '\n') return 0;
    else return j + 1;
  }
}

static lpos scanstr(Lex *X, lpos ts, lpos q, lpos fdepth);

/* An f-string body: > 0 the offset after it, 0 unclosed (the caller rescans it
** as a plain literal), -1 an error ("f-string nesting too deep"). */
static lpos scan_f(Lex *X, lpos q, int triple, int ch, lpos fdepth) {
  const unsigned char *s = X->s;
  lpos n = X->n, p = q + (triple ? 3 : 1), depth = 0, j;
  for (;;) {
    int c;
    for (j = p; j <= n; j++) {
      c = s[j - 1];
      if (c == '\\' || c == '\'' || c == '"' || c == '{' || c == '}' || c == '\n') break;
    }
    if (j > n) return 0;
    c = s[j - 1];
    if (c == '\\') p = j + 2;
    else if (c == '{') { depth++; p = j + 1; }
    else if (c == '}') { if (depth > 0) depth--; p = j + 1; }
    else if (c == '\n') {
      if (!triple) return 0;
      p = j + 1;
    } else if (depth > 0) { /* a nested string inside a body */
      lpos ts = j, e;
      if (fdepth >= X->max_fdepth) return -1;
      while (ts > q + 1 && isidc(at(X, ts - 1))) ts--;
      if (!(j - ts == 1 && is_rf(s[ts - 1]))) ts = j;
      e = scanstr(X, ts, j, fdepth + 1);
      if (!e) return 0;
      p = e;
    } else if (c == ch && (!triple || (at(X, j + 1) == ch && at(X, j + 2) == ch))) {
      return j + (triple ? 3 : 1);
    } else p = j + 1;
  }
}

/* A string literal token at ts (prefix) .. q (quote): the offset after it, or 0
** on any error. Registers strs entries (nested ones first). */
static lpos scanstr(Lex *X, lpos ts, lpos q, lpos fdepth) {
  int ch = X->s[q - 1];
  int triple = at(X, q + 1) == ch && at(X, q + 2) == ch;
  lpos e;
  if (q - ts == 1 && (X->s[ts - 1] == 'f' || X->s[ts - 1] == 'F')) {
    size_t mark = X->np;
    e = scan_f(X, q, triple, ch, fdepth);
    if (e < 0) { X->np = mark; return 0; }
    if (e == 0) { /* an unclosed body: the whole thing is a plain literal */
      X->np = mark;
      e = scan_plain(X, q, triple, ch);
    }
  } else {
    e = scan_plain(X, q, triple, ch);
  }
  if (!e) return 0;
  reg_pair(X, ts + X->shift, e + X->shift);
  return e;
}

static int open_of_close(int b) {
  return b == ')' ? '(' : b == ']' ? '[' : '{';
}

/* The whole scan; LEX_OK leaves the result table on the stack. */
static int lex_run(lua_State *L, Lex *X, lpos max_depth) {
  const unsigned char *s = X->s;
  lpos n = X->n;
  lpos nl, i, md, pos, line = 1, cur_sh = 0, ls_done = 0;
  lpos *lstart, *lsv, *indents, *alts, *brackets;
  size_t icap, bcap;
  lpos top = 1, nb = 0;
  int prev_colon = 0, bom;
  unsigned steps = 0;

  /* physical lines */
  nl = 1;
  {
    const unsigned char *p = s, *end = s + n;
    while (p < end && (p = (const unsigned char *)memchr(p, '\n', (size_t)(end - p))) != NULL) {
      nl++;
      p++;
    }
  }
  /* sizes: every count below is bounded by n + 2 and n is far below these limits */
  if ((size_t)n > (SIZE_MAX / 4 - 64) / sizeof(lpos)) return LEX_FAIL;
  lstart = (lpos *)lua_newuserdatauv(L, ((size_t)nl + 2) * sizeof(lpos), 0);
  lsv = (lpos *)lua_newuserdatauv(L, ((size_t)nl + 2) * sizeof(lpos), 0);
  lstart[1] = 1;
  {
    lpos k = 1;
    for (i = 1; i <= n; i++) if (s[i - 1] == '\n') lstart[++k] = i + 1;
  }
  /* the text: the source, plus at most one INDENT per line, as many DEDENTs in
  ** all, and a final newline */
  X->ocap = (size_t)n + 2 * (size_t)nl + 8;
  X->out = (unsigned char *)lua_newuserdatauv(L, X->ocap, 0);
  X->no = 0;
  md = max_depth < 0 ? 0 : max_depth;
  icap = (size_t)(md < nl ? md : nl) + 2;  /* indentation levels: <= max_depth + 1 */
  bcap = (size_t)(md < n ? md : n) + 2;    /* open brackets: <= max_depth + 1 */
  indents = (lpos *)lua_newuserdatauv(L, 2 * icap * sizeof(lpos), 0);
  alts = indents + icap;
  brackets = (lpos *)lua_newuserdatauv(L, bcap * sizeof(lpos), 0);
  indents[1] = 0;
  alts[1] = 0;

#define SET_SHIFTAT(ln, v) do { \
    for (i = ls_done + 1; i < (ln); i++) lsv[i] = lstart[i] + cur_sh; \
    if ((ln) - 1 > ls_done) ls_done = (ln) - 1; \
    cur_sh = (v); \
  } while (0)

  X->copied = 1;
  X->shift = 0;
  pos = 1;
  bom = n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF;
  if (bom) {
    X->copied = 4;
    X->shift = -3;
    pos = 4;
    SET_SHIFTAT(1, X->shift);
  }

  while (pos <= n) {
    lpos e, col, alt, p, content_end, k;
    int c, tabbed = 0;
    if ((++steps & 1023) == 0) dana_limits_poll(L);
    while (line < nl && lstart[line + 1] <= pos) line++;
    e = pos;
    while (e <= n && s[e - 1] == ' ') e++;
    c = at(X, e);
    if (c == '\t' || c == '\f') {
      tabbed = 1;
      while (e <= n && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\f')) e++;
      c = at(X, e);
    }
    if (c < 0) break;
    if (c == 13 && at(X, e + 1) == '\n') { c = '\n'; e++; }
    if (c == '\n') { pos = e + 1; continue; }
    if (c == '#') {
      const unsigned char *q = (const unsigned char *)memchr(s + e - 1, '\n', (size_t)(n - e + 1));
      lpos j = q ? (lpos)(q - s) + 1 : n + 1;
      if (blank(X, e, j) != LEX_OK) return LEX_FAIL;
      pos = j + 1;
      continue;
    }
    /* a logical line: indentation */
    col = alt = e - pos;
    if (tabbed) {
      col = alt = 0;
      for (k = pos; k < e; k++) {
        int b = s[k - 1];
        if (b == '\t') { col = (col / 8 + 1) * 8; alt++; }
        else if (b == '\f') { col = 0; alt = 0; }
        else { col++; alt++; }
      }
    }
    {
      int markers = 0; /* 0 none, 1 INDENT, 2 DEDENTs */
      lpos ndedent = 0;
      if (col == indents[top]) {
        if (alt != alts[top]) return LEX_FAIL;
      } else if (col > indents[top]) {
        if (alt <= alts[top]) return LEX_FAIL;
        if (!prev_colon) return LEX_FAIL;
        if (top > max_depth) return LEX_FAIL;
        if ((size_t)top + 1 >= icap) return LEX_FAIL; /* cannot happen: icap is counted */
        top++;
        indents[top] = col;
        alts[top] = alt;
        markers = 1;
      } else {
        while (col < indents[top]) { top--; ndedent++; }
        if (col != indents[top]) return LEX_FAIL;
        if (alt != alts[top]) return LEX_FAIL;
        markers = 2;
      }
      if (prev_colon && markers != 1) return LEX_FAIL;
      if (markers) {
        if (emit_upto(X, pos) != LEX_OK) return LEX_FAIL;
        if (markers == 1) {
          if (put_bytes(X, 1, 1) != LEX_OK) return LEX_FAIL;
          X->shift += 1;
        } else {
          if (put_bytes(X, 2, (size_t)ndedent) != LEX_OK) return LEX_FAIL;
          X->shift += ndedent;
        }
      }
      SET_SHIFTAT(line, X->shift);
    }
    /* the logical line's content */
    p = e;
    for (;;) {
      lpos j = p;
      int b;
      while (j <= n && !(lex_class[s[j - 1]] & LX_SPECIAL)) j++;
      if (j > n) { content_end = n + 1; pos = n + 1; break; }
      b = s[j - 1];
      if (b == '\n') {
        if (nb > 0) {
          if (blank(X, j, j + 1) != LEX_OK) return LEX_FAIL;
          p = j + 1;
        } else { content_end = j; pos = j + 1; break; }
      } else if (b == '#') {
        const unsigned char *q = (const unsigned char *)memchr(s + j - 1, '\n', (size_t)(n - j + 1));
        lpos kk = q ? (lpos)(q - s) + 1 : n + 1;
        if (blank(X, j, kk) != LEX_OK) return LEX_FAIL;
        if (nb > 0) {
          if (kk <= n && blank(X, kk, kk + 1) != LEX_OK) return LEX_FAIL;
          p = kk + 1;
        } else { content_end = j; pos = kk + 1; break; }
      } else if (b == '\'' || b == '"') {
        lpos ts = j, plen, q2;
        while (ts > e && isidc(at(X, ts - 1))) ts--;
        plen = j - ts;
        if (plen > 0 && !(plen == 1 && is_rf(s[ts - 1]))) {
          if (plen <= 2 && is_prefix_char(s[ts - 1]) && (plen == 1 || is_prefix_char(s[ts])))
            return LEX_FAIL;
          ts = j; /* a name directly before a quote: not a prefix */
        }
        q2 = scanstr(X, ts, j, 0);
        if (!q2) return LEX_FAIL;
        p = q2;
      } else if (b == '(' || b == '[' || b == '{') {
        nb++;
        if (nb > max_depth) return LEX_FAIL;
        if ((size_t)nb >= bcap) return LEX_FAIL; /* cannot happen: bcap is counted */
        brackets[nb] = j;
        p = j + 1;
      } else if (b == ')' || b == ']' || b == '}') {
        if (nb == 0) return LEX_FAIL;
        if (s[brackets[nb] - 1] != open_of_close(b)) return LEX_FAIL;
        nb--;
        p = j + 1;
      } else {
        return LEX_FAIL; /* backslash, control or non-ASCII byte */
      }
    }
    if (nb > 0) return LEX_FAIL; /* end of file inside brackets */
    /* last significant byte of the logical line */
    k = content_end - 1;
    while (k >= e) {
      int b = at(X, k);
      if (b == ' ' || b == '\t' || b == '\f' || b == 13) k--;
      else break;
    }
    prev_colon = at(X, k) == ':' && at(X, k - 1) != ':';
    if (content_end > n) { /* no final newline */
      if (emit_upto(X, n + 1) != LEX_OK || put_bytes(X, '\n', 1) != LEX_OK) return LEX_FAIL;
      X->shift += 1;
    }
  }
  if (prev_colon) return LEX_FAIL;
  if (emit_upto(X, n + 1) != LEX_OK) return LEX_FAIL;
  if (top > 1 && put_bytes(X, 2, (size_t)(top - 1)) != LEX_OK) return LEX_FAIL;
  /* line table of the transformed text */
  SET_SHIFTAT(nl + 1, 0);
  if (bom) lsv[1] = 1;
#undef SET_SHIFTAT

  lua_createtable(L, 0, 5);
  lua_pushlstring(L, (const char *)X->out, X->no);
  lua_setfield(L, -2, "text");
  lua_createtable(L, (int)(nl < INT32_MAX ? nl : INT32_MAX), 0);
  for (i = 1; i <= nl; i++) {
    lua_pushinteger(L, lsv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "ls");
  lua_createtable(L, (int)(nl < INT32_MAX ? nl : INT32_MAX), 0);
  for (i = 1; i <= nl; i++) {
    lua_pushinteger(L, lstart[i]);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "lstart");
  lua_createtable(L, 0, (int)(X->np < INT32_MAX ? X->np : INT32_MAX));
  for (i = 0; (size_t)i < X->np; i++) {
    lua_pushinteger(L, X->pairs[2 * i + 1]);
    lua_rawseti(L, -2, X->pairs[2 * i]);
  }
  lua_setfield(L, -2, "strs");
  lua_pushinteger(L, nl);
  lua_setfield(L, -2, "nlines");
  return LEX_OK;
}

/***
Scan a Dana source (the C fast path of `dana.lexer.scan`).
@function lex_scan
@tparam string s the source
@tparam integer max_depth bracket and indentation nesting limit
@tparam integer max_fstring_depth nested f-string limit
@treturn table|boolean `{text=, ls=, lstart=, strs=, nlines=}` as `dana.lexer.scan`
  returns it for a valid source; false for any lexical error (or a limit this
  fast path leaves to the Lua code), so that the caller runs the Lua scan.
*/
static int l_lex_scan(lua_State *L) {
  Lex X;
  size_t len;
  lpos max_depth, max_fdepth;
  if (lua_type(L, 1) != LUA_TSTRING) { lua_pushboolean(L, 0); return 1; }
  X.s = (const unsigned char *)lua_tolstring(L, 1, &len);
  max_depth = luaL_checkinteger(L, 2);
  max_fdepth = luaL_checkinteger(L, 3);
  if (max_fdepth > LEX_MAX_FDEPTH || len > (size_t)(INT32_MAX - 64)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_settop(L, 3);
  luaL_checkstack(L, 16, "lex_scan");
  X.L = L;
  X.n = (lpos)len;
  X.max_fdepth = max_fdepth;
  X.pairs = NULL;
  X.np = X.pcap = 0;
  lua_pushnil(L); /* slot for the pair array */
  X.pairs_idx = lua_gettop(L);
  if (lex_run(L, &X, max_depth) != LEX_OK) {
    lua_pushboolean(L, 0);
    return 1;
  }
  return 1;
}

void dana_lexer_open(lua_State *L) {
  lua_pushcfunction(L, l_lex_scan);
  lua_setfield(L, -2, "lex_scan");
}
