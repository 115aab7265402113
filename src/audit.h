/*
** audit.h: the hash-chained audit writer, for the other C files of dana.core.
**
** An audit log is a "dana.Audit" userdata (core.audit_open{...}, see
** docs/audit.md). Each recorded event becomes one JSON line
**
**   {"seq":N,"timestamp":"2026-12-04T15:52:00.123Z","tenant":..,"agent":..,
**    "user":..,"session":..,"role":..,"op":..,"resource":..,"decision":..,
**    "value_hash":..,"detail":..,"prev":"<64 hex>","hash":"<64 hex>"}
**
** (one line, fields always in this order, absent ones null), where
** value_hash = HMAC-SHA-256(tenant key, value bytes) and hash = SHA-256 (or
** HMAC-SHA-256 with the chain key) of the line up to and including "prev".
** The line goes to the file sink (append; FILE.head keeps the last seq and
** hash), then to the in-memory ring, then to the Lua callback.
**
** Fail closed: dana_audit_record returns 0 with a message when the event could
** not be recorded; the caller must then refuse the operation. A file write
** error is sticky: every later record fails until the log is reopened.
*/
#ifndef DANA_AUDIT_H
#define DANA_AUDIT_H

#include <stddef.h>
#include "lua.h"

#define DANA_AUDIT_MT "dana.Audit"

#if !defined(DANA_AUDIT_MAX_FIELD)
#define DANA_AUDIT_MAX_FIELD 1024   /* bytes of one string field; longer ones are cut, "..." */
#endif

typedef struct DanaAudit DanaAudit;

typedef enum DanaAuditLevel {
  DANA_AUDIT_NONE = 0,       /* record nothing */
  DANA_AUDIT_METADATA = 1,   /* record events, value_hash always null */
  DANA_AUDIT_ALL = 2         /* record events with value hashes (the default) */
} DanaAuditLevel;

/* One event. op, resource and decision are required. A NULL string field is
** written as null. Each *_len of 0 means strlen() of the field; give the
** length for strings that may hold NUL bytes (they are escaped as \u0000).
** value/value_len: the bytes to hash (the encoded value); NULL for none. The
** value itself is never written anywhere. */
typedef struct DanaAuditEvent {
  const char *tenant;     size_t tenant_len;   /* NULL: the log's default tenant */
  const char *agent;      size_t agent_len;
  const char *user;       size_t user_len;
  const char *session;    size_t session_len;
  const char *role;       size_t role_len;
  const char *op;         /* read write delete call import deny limit escalate anomaly */
  const char *resource;   size_t resource_len; /* "private:x", "call:reason", ... */
  const char *decision;   size_t decision_len; /* "allow", "deny", "grant", ... */
  const char *detail;     size_t detail_len;   /* deciding rule or message (sanitized) */
  const void *value;      size_t value_len;
} DanaAuditEvent;

/* Raises unless the value at idx is an open dana.Audit. */
DanaAudit *dana_audit_check(lua_State *L, int idx);
/* NULL unless the value at idx is a dana.Audit (open or closed). */
DanaAudit *dana_audit_test(lua_State *L, int idx);

/* 1 when an event with this op on this resource and decision would be
** written at the log's level (none records nothing; allowed reads of public:
** and local: are skipped unless the log was opened with public_reads = true).
** Lets callers skip building an event. dana_audit_record applies the same rule. */
int dana_audit_wants(const DanaAudit *au, const char *op, const char *resource,
                     const char *decision);

/* Records ev. Returns 1 when recorded (or skipped by the level), 0 on failure
** with a message in err (errlen bytes, may be NULL/0): log closed or broken,
** write/fsync error (for example ENOSPC on /dev/full), bad op, missing field,
** callback error, out of memory. L must be a thread of the state that owns
** au; it is used only to call the callback sink (inside a protected call).
** Not thread-safe: one writer per log. */
int dana_audit_record(lua_State *L, DanaAudit *au, const DanaAuditEvent *ev,
                      char *err, size_t errlen);

/* The last written entry: seq (0 when none) and its hash as 64 hex digits
** plus NUL in hex65 (may be NULL). */
unsigned long long dana_audit_head(const DanaAudit *au, char *hex65);

DanaAuditLevel dana_audit_level(const DanaAudit *au);

#endif
