/*
** scope.c: the scope store. One DanaScope holds the variables of one scope
** (a tenant's public: or system:, an agent's private:) as encoded blobs keyed
** by name, in C memory that belongs to no lua_State. Reads decode a fresh copy
** into the reading state; writes encode a copy out of the writing state.
** Open addressing with linear probing; names are short, so FNV-1a is enough.
*/
#include <stdlib.h>
#include <string.h>

#include "scope.h"

typedef struct Slot {
  char *name;           /* NULL with deleted == 0: never used */
  int deleted;          /* a tombstone: keeps probe chains intact */
  size_t namelen;
  unsigned int hash;
  DanaBlob blob;
} Slot;

struct DanaScope {
  Slot *slots;
  size_t cap;           /* power of two */
  size_t count;         /* live entries */
  size_t used;          /* live + tombstones */
  size_t bytes;         /* names + blobs, for memory accounting */
};

static unsigned int name_hash(const char *s, size_t n) {
  unsigned int h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

DanaScope *dana_scope_new(void) {
  DanaScope *s = (DanaScope *)calloc(1, sizeof *s);
  return s;
}

void dana_scope_clear(DanaScope *s) {
  size_t i;
  for (i = 0; i < s->cap; i++) {
    Slot *sl = &s->slots[i];
    if (sl->name) {
      free(sl->name);
      dana_blob_free(&sl->blob);
    }
  }
  free(s->slots);
  s->slots = NULL;
  s->cap = s->count = s->used = s->bytes = 0;
}

void dana_scope_free(DanaScope *s) {
  if (s == NULL) return;
  dana_scope_clear(s);
  free(s);
}

static Slot *find(const DanaScope *s, const char *name, size_t n, unsigned int h) {
  size_t i, mask;
  if (s->cap == 0) return NULL;
  mask = s->cap - 1;
  for (i = h & mask;; i = (i + 1) & mask) {
    Slot *sl = &s->slots[i];
    if (sl->name == NULL && !sl->deleted) return NULL;
    if (sl->name && sl->hash == h && sl->namelen == n &&
        memcmp(sl->name, name, n) == 0)
      return sl;
  }
}

static int grow(DanaScope *s) {
  size_t ncap = s->cap ? s->cap * 2 : 16, i;
  Slot *old = s->slots, *ns;
  size_t oldcap = s->cap;
  if (s->count * 2 < s->cap) ncap = s->cap;  /* mostly tombstones: rehash in place size */
  if (ncap > SIZE_MAX / sizeof(Slot)) return 0;
  ns = (Slot *)calloc(ncap, sizeof(Slot));
  if (ns == NULL) return 0;
  for (i = 0; i < oldcap; i++) {
    Slot *sl = &old[i];
    if (sl->name) {
      size_t j = sl->hash & (ncap - 1);
      while (ns[j].name) j = (j + 1) & (ncap - 1);
      ns[j] = *sl;
    }
  }
  free(old);
  s->slots = ns;
  s->cap = ncap;
  s->used = s->count;
  return 1;
}

const DanaBlob *dana_scope_get(const DanaScope *s, const char *name, size_t n) {
  Slot *sl = find(s, name, n, name_hash(name, n));
  return sl ? &sl->blob : NULL;
}

int dana_scope_put(DanaScope *s, const char *name, size_t n, DanaBlob *blob) {
  unsigned int h = name_hash(name, n);
  Slot *sl = find(s, name, n, h);
  size_t i, mask;
  if (sl) {  /* replace in place */
    s->bytes -= sl->blob.len;
    dana_blob_free(&sl->blob);
    sl->blob = *blob;
    s->bytes += blob->len;
    blob->data = NULL;
    blob->len = 0;
    return 1;
  }
  if ((s->used + 1) * 4 > s->cap * 3 && !grow(s)) return 0;
  mask = s->cap - 1;
  for (i = h & mask; s->slots[i].name; i = (i + 1) & mask) {}
  sl = &s->slots[i];
  {
    int reuse = sl->deleted;
    char *copy = (char *)malloc(n + 1);
    if (copy == NULL) return 0;
    memcpy(copy, name, n);
    copy[n] = '\0';
    sl->name = copy;
    sl->namelen = n;
    sl->hash = h;
    sl->blob = *blob;
    sl->deleted = 0;
    if (!reuse) s->used++;
  }
  s->count++;
  s->bytes += n + 1 + blob->len;
  blob->data = NULL;
  blob->len = 0;
  return 1;
}

int dana_scope_delete(DanaScope *s, const char *name, size_t n) {
  Slot *sl = find(s, name, n, name_hash(name, n));
  if (sl == NULL) return 0;
  s->bytes -= sl->namelen + 1 + sl->blob.len;
  free(sl->name);
  dana_blob_free(&sl->blob);
  sl->name = NULL;
  sl->deleted = 1;
  s->count--;
  return 1;
}

size_t dana_scope_bytes(const DanaScope *s) { return s->bytes; }
size_t dana_scope_count(const DanaScope *s) { return s->count; }

int dana_scope_next(const DanaScope *s, size_t *iter, const char **name, size_t *n,
                    const DanaBlob **blob) {
  while (*iter < s->cap) {
    const Slot *sl = &s->slots[(*iter)++];
    if (sl->name) {
      *name = sl->name;
      *n = sl->namelen;
      *blob = &sl->blob;
      return 1;
    }
  }
  return 0;
}
