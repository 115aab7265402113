/*
** policy.h: the permission decision core, for the other C files of dana.core.
**
** A policy is a "dana.Policy" userdata compiled once from a Lua table (see
** docs/policy.md); deciding never allocates, raises or touches a lua_State, so
** it may be called on hot paths (scope accessors, host calls, imports).
*/
#ifndef DANA_POLICY_H
#define DANA_POLICY_H

#include "lua.h"

#define DANA_POLICY_MT "dana.Policy"
#define DANA_GRANT_MT  "dana.Grant"

typedef struct DanaPolicy DanaPolicy;

/* An escalation grant: while active, decisions the base role denies are taken
** with `role` instead. Always bounded: until_time is clamped to the policy's
** escalation.max_seconds and ops_left to escalation.max_ops at creation. */
typedef struct DanaGrant {
  const DanaPolicy *policy;  /* the policy whose role ids `role` refers to */
  int role;                  /* interned role id in `policy` */
  double until_time;         /* expiry, seconds since the epoch (CLOCK_REALTIME) */
  long long ops_left;        /* escalated decisions still allowed */
  int revoked;
} DanaGrant;

/* Raises unless the value at idx is an open dana.Policy. */
DanaPolicy *dana_policy_check(lua_State *L, int idx);
/* NULL unless the value at idx is a dana.Policy (open or closed). */
DanaPolicy *dana_policy_test(lua_State *L, int idx);

/* 1 = allow, 0 = deny. op: "read" "write" "delete" "call" "import".
** resource: "private:x", "public:x", "system:x", "local:x" (also "scope.x"; an
** unscoped name is local), "call:NAME", "import:MODULE" (for op call/import the
** prefix may be omitted). own: nonzero when a private resource is the calling
** agent's own private scope. *rule (if rule != NULL) is set to a string owned by
** the policy naming the deciding rule ("agent allow public:*", "default deny",
** "unknown role", "invalid resource", "unknown op", "policy closed"); it stays
** valid while the policy userdata is alive. */
int dana_policy_decide(const DanaPolicy *p, const char *role, const char *op,
                       const char *resource, int own, const char **rule);

/* Interned roles: look the id up once (-1 if unknown), then decide by id. */
int dana_policy_role_id(const DanaPolicy *p, const char *role);
int dana_policy_decide_id(const DanaPolicy *p, int role_id, const char *op,
                          const char *resource, int own, const char **rule);

/* Current time as dana_policy_decide_grant and grants expect it. */
double dana_policy_now(void);

/* Pushes a new dana.Grant (the host has approved the escalation) for `role`
** of the open policy at policy_idx, valid for `seconds` (<= 0: the policy's
** escalation.max_seconds) and `max_ops` escalated decisions (<= 0: its
** escalation.max_ops); both are clamped to those caps, so a grant is always
** bounded. Returns NULL, pushing nothing and writing a message to err, when
** the policy is closed or the role unknown. The grant keeps the policy alive. */
DanaGrant *dana_grant_push(lua_State *L, int policy_idx, const char *role,
                           double seconds, long long max_ops,
                           char *err, size_t errlen);

/* Raises unless the value at idx is a dana.Grant. */
DanaGrant *dana_grant_check(lua_State *L, int idx);
/* 1 while g is usable with p at time `now` (not revoked, not expired, ops left,
** same policy, policy open). */
int dana_grant_active(const DanaGrant *g, const DanaPolicy *p, double now);

/* Like dana_policy_decide; when the base role denies and g (may be NULL) is
** active, decides with the grant's role instead and, if that allows, consumes
** one of the grant's operations; *rule then reads "escalated: admin allow *:*".
** Not thread-safe for a shared g (it decrements g->ops_left). */
int dana_policy_decide_grant(const DanaPolicy *p, const char *role, DanaGrant *g,
                             double now, const char *op, const char *resource,
                             int own, const char **rule);

#endif
