/*
** guard.h: the permission layer between agent code and what it can touch:
** the policy decision, the audit record, registered secrets and the
** redaction of everything that leaves an agent (see guard.c).
*/
#ifndef DANA_GUARD_H
#define DANA_GUARD_H

#include "access.h"

/* 1 when the agent may do op ("read", "write", "delete", "call", "import") on
** resource ("private:x", "call:name", ...). *rule names the deciding rule.
** Uses the sandbox policy (with the agent's escalation grant, if active), or
** the built-in roles when the sandbox has no policy. */
int dana_guard_decide(DanaAgent *a, const char *op, const char *resource, const char **rule);

/* Records an event in the sandbox's audit log (a no-op without one). H is a
** host thread (a->host during a run). Returns 1 when recorded or not wanted,
** 0 on failure with a message in err: the caller must refuse the operation. */
int dana_guard_audit(lua_State *H, DanaAgent *a, const char *op, const char *resource,
                     const char *decision, const char *detail, const DanaBlob *value,
                     char *err, size_t errlen);

/* Registers every string of an encoded value as a secret of the agent (what
** it stored in private:/system: or under a sensitive key, or read from there). */
void dana_guard_register_blob(DanaAgent *a, const DanaBlob *b);
/* 1 when values stored at scope:name are secret (private:, system:, or a
** sensitive key name). */
int dana_guard_secret_key(DanaScopeId scope, const char *name, size_t n);

/* Pushes onto L the text with secret shapes and the agent's registered
** secrets masked. */
void dana_guard_push_redacted(lua_State *L, DanaAgent *a, const char *s, size_t n);
/* Redacts in place into a C buffer (for error messages); returns dst. */
char *dana_guard_redact_into(lua_State *H, DanaAgent *a, const char *s, char *dst, size_t cap);

/* dana.escalate(role, reason) inside an agent: asks the host's approval
** callback; returns true when a bounded grant was made. */
int dana_guard_escalate(lua_State *L);

#endif
