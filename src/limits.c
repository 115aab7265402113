/*
** limits.c: the resource limits of an agent state.
**
** - memory: the state's allocator counts nsize - (ptr ? osize : 0) against the
**   agent cap and the tenant cap; it refuses growth past them and never fails
**   a shrink.
** - time: a deadline. No hook runs while the deadline is ahead, so the VM runs
**   at full speed (a count hook left on puts Lua 5.4 in trap mode, about 2x
**   slower on every instruction). One watchdog thread per sandbox sleeps until
**   the nearest deadline of its running agents, then only sets a flag and calls
**   lua_sethook on the agent's running thread, which is what lua.c does from its
**   SIGINT handler. No signal handler, nothing process-wide.
** - instructions: when a budget is set, a count hook charges one shared budget
**   for every coroutine of the state (threads inherit their creator's hook).
** - output and host calls: counted by the functions that write or call.
**
** Limits are sticky: once one trips the agent is poisoned. The hook stays
** installed with count 1, so any Lua code that still runs (a __close handler,
** a message handler) raises again at its first instruction, and the vetted
** pcall/xpcall/coroutine functions re-raise instead of returning. The host
** gets the limit error; the agent is usable again after reset().
*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

double dana_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- allocator ---- */

void *dana_agent_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  DanaAgent *a = (DanaAgent *)ud;
  void *np;
  if (ptr == NULL) osize = 0;
  if (nsize > osize) {
    size_t delta = nsize - osize;
    DanaSandbox *sb = a->sb;
    if (delta > a->limits.memory - a->mem_used) return NULL;
    if (sb->limits.memory && delta > sb->limits.memory - sb->mem_used) return NULL;
    np = ptr ? realloc(ptr, nsize) : malloc(nsize);
    if (np == NULL) return NULL;
    a->mem_used += delta;
    sb->mem_used += delta;
    return np;
  }
  if (nsize == 0) {
    free(ptr);
    np = NULL;
  } else {
    np = realloc(ptr, nsize);
    if (np == NULL) return ptr;  /* a shrink never fails: keep the block (counted as before) */
  }
  a->mem_used -= osize - nsize;
  a->sb->mem_used -= osize - nsize;
  return np;
}

DanaAgent *dana_agent_of(lua_State *L) {
  void *ud;
  if (lua_getallocf(L, &ud) != dana_agent_alloc) return NULL;
  return (DanaAgent *)ud;
}

/* ---- kinds and messages ---- */

const char *dana_limit_kind_name(int kind) {
  switch (kind) {
    case DANA_LIM_MEMORY: return "MemoryLimitError";
    case DANA_LIM_TIME: return "TimeLimitError";
    case DANA_LIM_INSTRUCTIONS: return "InstructionLimitError";
    case DANA_LIM_OUTPUT: return "OutputLimitError";
    case DANA_LIM_RECURSION: return "RecursionError";
    case DANA_LIM_RATE: return "RateLimitError";
    default: return "RuntimeError";
  }
}

const char *dana_limit_message(DanaAgent *a, int kind, char *buf, size_t len) {
  switch (kind) {
    case DANA_LIM_MEMORY:
      snprintf(buf, len, "memory limit exceeded (%zu bytes)", a->limits.memory);
      break;
    case DANA_LIM_TIME:
      snprintf(buf, len, "time limit exceeded (%g s)", a->limits.time);
      break;
    case DANA_LIM_INSTRUCTIONS:
      snprintf(buf, len, "instruction limit exceeded (%lld)",
               a->instr_budget > 0 ? a->instr_budget : a->limits.instructions);
      break;
    case DANA_LIM_OUTPUT:
      snprintf(buf, len, "output limit exceeded (%zu bytes)", a->limits.output);
      break;
    case DANA_LIM_RECURSION:
      snprintf(buf, len, "maximum recursion depth exceeded");
      break;
    case DANA_LIM_RATE:
      snprintf(buf, len, "host-function call rate exceeded (%d calls per minute)",
               a->limits.calls_per_minute);
      break;
    default:
      snprintf(buf, len, "limit exceeded");
  }
  return buf;
}

/* ---- hooks ---- */

int dana_limits_settle(DanaAgent *a, int status, lua_State *E) {
  if (a->poison == DANA_LIM_NONE && a->tripped != DANA_LIM_NONE) a->poison = (int)a->tripped;
  if (a->poison == DANA_LIM_NONE && status != LUA_OK && status != LUA_YIELD) {
    if (status == LUA_ERRMEM) a->poison = DANA_LIM_MEMORY;
    else if (dana_limits_is_overflow(E, status, -1)) a->poison = DANA_LIM_RECURSION;
  }
  return a->poison;
}

static void limits_hook(lua_State *L, lua_Debug *ar) {
  DanaAgent *a = dana_agent_of(L);
  if (a == NULL) return;
  if (dana_limits_settle(a, LUA_OK, L) != DANA_LIM_NONE)
    dana_limits_trip(L, a, (DanaLimitKind)a->poison);
  if (ar->event == LUA_HOOKCOUNT && a->hook_count > 0) {
    a->instr_left -= a->hook_count;
    if (a->instr_left <= 0) dana_limits_trip(L, a, DANA_LIM_INSTRUCTIONS);
  }
}

DANA_NORET dana_limits_trip(lua_State *L, DanaAgent *a, DanaLimitKind kind) {
  /* a limit that tripped first (the watchdog's deadline) is the one reported */
  if (dana_limits_settle(a, LUA_OK, L) == DANA_LIM_NONE) a->poison = (int)kind;
  /* Keep a hook on this thread: any Lua code that runs while the error unwinds
  ** (or after a catch we did not make) raises again at once. */
  lua_sethook(L, limits_hook, LUA_MASKCOUNT, 1);
  /* A light userdata cannot fail to allocate; the host never reads it: the
  ** agent's poison field is the truth. */
  lua_pushlightuserdata(L, (void *)a);
  lua_error(L);
  abort();  /* not reached */
}

int dana_limits_is_overflow(lua_State *L, int status, int idx) {
  if (status == LUA_ERRERR) return 1;  /* the stack overflowed while handling an error */
  if (status == LUA_ERRRUN && lua_type(L, idx) == LUA_TSTRING) {
    const char *m = lua_tostring(L, idx);
    return strstr(m, "stack overflow") != NULL;
  }
  return 0;
}

void dana_limits_after_pcall(lua_State *L, DanaAgent *a, int status, lua_State *E) {
  if (a != NULL && dana_limits_settle(a, status, E) != DANA_LIM_NONE)
    dana_limits_trip(L, a, (DanaLimitKind)a->poison);
}

void dana_limits_poll(lua_State *L) {
  dana_limits_after_pcall(L, dana_agent_of(L), LUA_OK, L);
}

int dana_limits_stopped(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  return a != NULL && (a->poison != DANA_LIM_NONE || a->tripped != DANA_LIM_NONE);
}

size_t dana_limits_room(lua_State *L) {
  DanaAgent *a = dana_agent_of(L);
  size_t room;
  if (a == NULL) return SIZE_MAX;
  room = a->limits.memory - a->mem_used;
  if (a->sb->limits.memory) {
    size_t troom = a->sb->limits.memory - a->sb->mem_used;
    if (troom < room) room = troom;
  }
  return room;
}

DANA_NORET dana_limits_refuse_memory(lua_State *L, const char *what) {
  DanaAgent *a = dana_agent_of(L);
  if (a != NULL) dana_limits_trip(L, a, DANA_LIM_MEMORY);
  luaL_error(L, "%s: result would exceed the memory limit", what);
  abort();  /* not reached */
}

/* ---- output and host calls ---- */

void dana_limits_output(lua_State *L, DanaAgent *a, size_t n) {
  DanaSandbox *sb = a->sb;
  if (n > a->limits.output - a->output_used) {
    a->output_used = a->limits.output;
    dana_limits_trip(L, a, DANA_LIM_OUTPUT);
  }
  if (sb->limits.output && n > sb->limits.output - sb->output_used)
    dana_limits_trip(L, a, DANA_LIM_OUTPUT);
  a->output_used += n;
  sb->output_used += n;
}

/* Token bucket: capacity = rate, refilled continuously at rate per minute. */
static int bucket_take(double *tokens, double *at, int rate, double now) {
  if (rate < 0) return 1;
  *tokens += (now - *at) * (double)rate / 60.0;
  if (*tokens > (double)rate) *tokens = (double)rate;
  *at = now;
  if (*tokens < 1.0) return 0;
  *tokens -= 1.0;
  return 1;
}

void dana_limits_take_call(lua_State *L, DanaAgent *a) {
  double now = dana_now();
  if (!bucket_take(&a->tokens, &a->tokens_at, a->limits.calls_per_minute, now) ||
      !bucket_take(&a->sb->tokens, &a->sb->tokens_at, a->sb->limits.calls_per_minute, now))
    dana_limits_trip(L, a, DANA_LIM_RATE);
}

/* ---- the watchdog ---- */

static void add_seconds(struct timespec *ts, double s) {
  time_t whole = (time_t)s;
  long ns = (long)((s - (double)whole) * 1e9);
  ts->tv_sec += whole;
  ts->tv_nsec += ns;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

static int ts_before(const struct timespec *x, const struct timespec *y) {
  return x->tv_sec < y->tv_sec || (x->tv_sec == y->tv_sec && x->tv_nsec < y->tv_nsec);
}

static void *watchdog_main(void *arg) {
  DanaWatchdog *wd = (DanaWatchdog *)arg;
  pthread_mutex_lock(&wd->mu);
  while (!wd->stop) {
    DanaAgent *a, *nearest = NULL;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (a = wd->armed; a; a = a->wd_next) {
      if (!ts_before(&now, &a->deadline)) {
        if (a->tripped == DANA_LIM_NONE) {
          a->tripped = DANA_LIM_TIME;
          /* The only thing done to the running state: as lua.c's SIGINT handler. */
          if (a->current) lua_sethook(a->current, limits_hook, LUA_MASKCOUNT, 1);
        }
      } else if (nearest == NULL || ts_before(&a->deadline, &nearest->deadline)) {
        nearest = a;
      }
    }
    if (nearest)
      pthread_cond_timedwait(&wd->cv, &wd->mu, &nearest->deadline);
    else
      pthread_cond_wait(&wd->cv, &wd->mu);
  }
  pthread_mutex_unlock(&wd->mu);
  return NULL;
}

void dana_watchdog_init(DanaWatchdog *wd) {
  pthread_condattr_t ca;
  pthread_mutex_init(&wd->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&wd->cv, &ca);
  pthread_condattr_destroy(&ca);
  wd->started = 0;
  wd->stop = 0;
  wd->armed = NULL;
}

void dana_watchdog_destroy(DanaWatchdog *wd) {
  if (wd->started) {
    pthread_mutex_lock(&wd->mu);
    wd->stop = 1;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    pthread_join(wd->thread, NULL);
    wd->started = 0;
  }
  pthread_cond_destroy(&wd->cv);
  pthread_mutex_destroy(&wd->mu);
}

static void install_count_hook(DanaAgent *a) {
  if (a->instr_budget > 0) {
    long long n = a->instr_budget / 100;
    if (n > 1000) n = 1000;
    if (n < 1) n = 1;
    a->hook_count = (int)n;
    lua_sethook(a->A, limits_hook, LUA_MASKCOUNT, a->hook_count);
  } else {
    a->hook_count = 0;
    lua_sethook(a->A, NULL, 0, 0);
  }
}

void dana_limits_begin_run(DanaAgent *a) {
  DanaSandbox *sb = a->sb;
  double budget = a->limits.time;
  a->output_used = 0;
  a->instr_budget = a->limits.instructions;
  if (sb->limits.instructions > 0) {  /* the tenant total caps every run */
    long long left = sb->limits.instructions - sb->instr_used;
    if (left < 1) left = 1;
    if (a->instr_budget <= 0 || left < a->instr_budget) a->instr_budget = left;
  }
  a->instr_left = a->instr_budget;
  a->run_started = dana_now();
  if (sb->limits.time > 0) {
    double left = sb->limits.time - sb->time_used;
    if (left < 1e-3) left = 1e-3;
    if (budget <= 0 || left < budget) budget = left;
  }
  install_count_hook(a);
  pthread_mutex_lock(&sb->wd.mu);
  a->current = a->A;
  if (budget > 0) {
    clock_gettime(CLOCK_MONOTONIC, &a->deadline);
    add_seconds(&a->deadline, budget);
    a->armed = 1;
    a->wd_next = sb->wd.armed;
    sb->wd.armed = a;
    if (!sb->wd.started) {
      if (pthread_create(&sb->wd.thread, NULL, watchdog_main, &sb->wd) == 0)
        sb->wd.started = 1;
    }
    pthread_cond_signal(&sb->wd.cv);
  }
  pthread_mutex_unlock(&sb->wd.mu);
}

void dana_limits_end_run(DanaAgent *a) {
  DanaSandbox *sb = a->sb;
  pthread_mutex_lock(&sb->wd.mu);
  if (a->armed) {
    DanaAgent **pp;
    for (pp = &sb->wd.armed; *pp; pp = &(*pp)->wd_next)
      if (*pp == a) {
        *pp = a->wd_next;
        break;
      }
    a->armed = 0;
  }
  a->current = NULL;
  pthread_mutex_unlock(&sb->wd.mu);
  dana_limits_settle(a, LUA_OK, NULL);
  sb->time_used += dana_now() - a->run_started;
  if (a->instr_budget > 0) {
    long long used = a->instr_budget - (a->instr_left > 0 ? a->instr_left : 0);
    sb->instr_used += used;
  }
  /* A clean agent runs hook-free between runs; a poisoned one keeps its hook. */
  if (a->poison == DANA_LIM_NONE && a->A) lua_sethook(a->A, NULL, 0, 0);
}

void dana_limits_prepare_thread(lua_State *from, lua_State *co) {
  /* A coroutine made in an earlier run (or before the budget was set) runs
  ** with the hook of the thread that resumes it, so no thread escapes a limit. */
  lua_sethook(co, lua_gethook(from), lua_gethookmask(from), lua_gethookcount(from));
}

void dana_limits_set_current(DanaAgent *a, lua_State *L) {
  pthread_mutex_lock(&a->sb->wd.mu);
  a->current = L;
  /* the deadline may have passed while another thread was running */
  if (a->tripped != DANA_LIM_NONE) lua_sethook(L, limits_hook, LUA_MASKCOUNT, 1);
  pthread_mutex_unlock(&a->sb->wd.mu);
}
