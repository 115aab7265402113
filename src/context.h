/*
** context.h: sandboxes (tenants) and agents (one child lua_State each).
** Shared by context.c (host API), agentlib.c (agent-side library) and
** limits.c (allocator, hooks, watchdog).
*/
#ifndef DANA_CONTEXT_H
#define DANA_CONTEXT_H

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "dana_internal.h"
#include "scope.h"

#define SANDBOX_MT "dana.Sandbox"
#define AGENT_MT   "dana.Agent"

/* agent registry keys */
#define DANA_REG_TEMPLATE "dana.template" /* name -> function or library table */
#define DANA_REG_LUAENV   "dana.luaenv"   /* env of untrusted Lua (run_lua) */
#define DANA_REG_LOADED   "dana.loaded"   /* runtime modules loaded by boot */
#define DANA_REG_ENV      "dana.env"      /* env of translated Dana code */
#define DANA_REG_TRUSTED  "dana.trusted"  /* env of the runtime modules */

/* Built-in defaults (design document); a C host may change them per host state
** with dana_set_default_limits. */
#if !defined(DANA_DEFAULT_MEMORY)
#define DANA_DEFAULT_MEMORY ((size_t)100 * 1000 * 1000)
#endif
#if !defined(DANA_DEFAULT_TIME)
#define DANA_DEFAULT_TIME 30.0
#endif
#if !defined(DANA_DEFAULT_CALLS)
#define DANA_DEFAULT_CALLS 100
#endif
#if !defined(DANA_DEFAULT_OUTPUT)
#define DANA_DEFAULT_OUTPUT ((size_t)1 << 20)
#endif
#if !defined(DANA_MIN_MEMORY)
#define DANA_MIN_MEMORY ((size_t)256 * 1024)
#endif

typedef enum DanaLimitKind {
  DANA_LIM_NONE = 0,
  DANA_LIM_MEMORY,
  DANA_LIM_TIME,
  DANA_LIM_INSTRUCTIONS,
  DANA_LIM_OUTPUT,
  DANA_LIM_RECURSION,
  DANA_LIM_RATE
} DanaLimitKind;

typedef struct DanaLimits {
  size_t memory;          /* bytes of the agent state (tenant: sum over agents) */
  double time;            /* seconds per run (tenant: total over runs); 0 = off */
  long long instructions; /* VM instructions per run (tenant: total); 0 = off */
  int calls_per_minute;   /* host-function calls; -1 = off */
  size_t output;          /* print/log bytes per run (tenant: total) */
} DanaLimits;

typedef enum DanaRole { ROLE_USER = 1, ROLE_AGENT, ROLE_ADMIN, ROLE_CUSTOM } DanaRole;

struct DanaAgent;
struct DanaPolicy;
struct DanaGrant;
struct DanaAudit;
struct DanaSecretSet;
struct DanaTaint;

typedef struct DanaWatchdog {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started;            /* thread running */
  int stop;
  struct DanaAgent *armed;  /* agents with a deadline, under mu */
} DanaWatchdog;

typedef struct DanaSandbox {
  char *tenant;
  DanaLimits limits;        /* tenant totals; 0 memory/output = no tenant cap */
  DanaLimits agent_limits;  /* defaults for new agents */
  size_t mem_used;          /* live bytes of all agent states */
  double time_used;
  long long instr_used;
  size_t output_used;
  double tokens, tokens_at; /* tenant call bucket */
  DanaScope *pub, *sys;
  struct DanaAgent *agents; /* live agents */
  DanaWatchdog wd;
  DanaCodecLimits codec;
  size_t store_limit;       /* bytes of public: + system: */
  int print_ref;            /* host registry: print sink, or LUA_NOREF */
  int funcs_ref;            /* host registry: registered host functions */
  char **limited;           /* system: names the `agent` role may read */
  size_t nlimited;
  struct DanaPolicy *policy;  /* NULL: the built-in roles of access.c */
  int policy_ref;            /* host registry: the dana.Policy userdata */
  struct DanaAudit *audit;   /* NULL: no audit log */
  int audit_ref;
  int approve_ref;           /* host registry: escalation approval callback */
  int running;              /* agents currently running */
  int refs;                 /* the sandbox userdata + every agent struct */
  int agent_seq;            /* for default agent names */
  int closed;
} DanaSandbox;

typedef struct DanaAgent {
  lua_State *A;             /* the agent state; NULL once closed */
  DanaSandbox *sb;
  struct DanaAgent *next, *prev;  /* sandbox list */
  struct DanaAgent *wd_next;      /* watchdog armed list */
  char *name, *user, *role, *session;
  DanaRole role_kind;
  DanaLimits limits;
  size_t mem_used;
  volatile sig_atomic_t tripped;  /* set by the watchdog thread */
  int poison;                     /* sticky DanaLimitKind */
  long long instr_budget;         /* this run's budget; 0 = off */
  long long instr_left;
  int hook_count;
  size_t output_used;
  double tokens, tokens_at;       /* call bucket */
  double run_started;
  struct timespec deadline;
  int armed;
  lua_State *current;             /* running thread, for the watchdog (under wd.mu) */
  lua_State *host;                /* host state during a run */
  int busy;
  int booted;                     /* Dana runtime loaded */
  DanaScope *priv;
  struct DanaSecretSet *secrets;  /* registered secret values, masked in output */
  struct DanaTaint *taint;        /* LLM output handed to the agent (untrusted data) */
  struct DanaGrant *grant;        /* active escalation grant, or NULL */
  int grant_ref;                  /* host registry: the dana.Grant userdata */
  /* position of the last error, filled by the message handler */
  char err_file[128];
  int err_line;
} DanaAgent;

/* limits.c */
void *dana_agent_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
DanaAgent *dana_agent_of(lua_State *L);
double dana_now(void);
DANA_NORET dana_limits_trip(lua_State *L, DanaAgent *a, DanaLimitKind kind);
/* The agent's sticky limit after a call returned `status`: a deadline the
** watchdog marked becomes the poison; so do LUA_ERRMEM and a stack overflow
** (error object at the top of E). Returns a->poison (DANA_LIM_NONE: none). */
int dana_limits_settle(DanaAgent *a, int status, lua_State *E);
/* Raises the poison (see settle) in L; a no-op when there is none. */
void dana_limits_after_pcall(lua_State *L, DanaAgent *a, int status, lua_State *E);
int dana_limits_is_overflow(lua_State *L, int status, int idx);
void dana_limits_begin_run(DanaAgent *a);
void dana_limits_end_run(DanaAgent *a);
void dana_limits_set_current(DanaAgent *a, lua_State *L);
void dana_limits_prepare_thread(lua_State *from, lua_State *co);
void dana_limits_take_call(lua_State *L, DanaAgent *a);
void dana_limits_output(lua_State *L, DanaAgent *a, size_t n);
void dana_watchdog_init(DanaWatchdog *wd);
void dana_watchdog_destroy(DanaWatchdog *wd);
const char *dana_limit_kind_name(int kind);
const char *dana_limit_message(DanaAgent *a, int kind, char *buf, size_t len);

/* agentlib.c */
int dana_agentlib_setup(lua_State *A);  /* a lua_CFunction: builds the vetted library */
/* Pushes a new env: fresh copies of the library tables, _G = the env itself. */
void dana_agentlib_push_env(lua_State *A);
/* Pushes the env the runtime modules run in: push_env plus dana_internal and
** a require that finds only modules already loaded by boot. */
void dana_agentlib_push_trusted_env(lua_State *A);
int dana_agentlib_setup_trusted(lua_State *A);  /* lua_CFunction, for lua_pcall */
int dana_agentlib_store_module(lua_State *A);   /* lua_CFunction: value, name, is_last */

/* scopeaccess.c: dana.get / dana.set / dana.delete inside an agent */
int dana_agent_scope_get(lua_State *L);
int dana_agent_scope_set(lua_State *L);
int dana_agent_scope_delete(lua_State *L);
/* Raises, in the agent state L, an error table {kind=, message=}. */
DANA_NORET dana_agent_raise(lua_State *L, const char *kind, const char *fmt, ...);

/* context.c, for agentlib */
void dana_agent_emit(lua_State *L, DanaAgent *a, const char *s, size_t n);
int dana_agent_call_host(lua_State *L);  /* dana.call(name, ...), a lua_CFunction */
int dana_agent_registered(lua_State *L); /* dana.registered(name) */
/* Pushes {<name_key> = name, user, role, session, tenant}. */
void dana_agent_push_identity(lua_State *L, const DanaAgent *a, const char *name_key);

#endif
