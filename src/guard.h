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

/* Tainted text of one agent (LLM output), see guard.c. */
typedef struct DanaTaint DanaTaint;
DanaTaint *dana_taint_new(void);
void dana_taint_free(DanaTaint *t);
int dana_taint_add(DanaTaint *t, const char *s, size_t n);  /* 0: out of memory */
/* 1 when the name occurs in a tainted text (a function name taken from it). */
int dana_taint_name(const DanaTaint *t, const char *s, size_t n);

/* 1 when a string of the encoded value (or the text) holds a tainted text of
** this agent (LLM output), or a piece of one. */
int dana_guard_blob_tainted(const DanaAgent *a, const DanaBlob *b);
int dana_guard_text_tainted(const DanaAgent *a, const char *s, size_t n);

/* dana.allowed(op, resource) inside an agent: the decision and its rule, so
** the runtime can check its own builtins that touch the outside (log). */
int dana_guard_allowed(lua_State *L);

/* dana.escalate(role, reason) inside an agent: asks the host's approval
** callback; returns true when a bounded grant was made. */
int dana_guard_escalate(lua_State *L);

#endif
