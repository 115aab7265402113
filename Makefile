# dana-sandbox build. Accepts LuaRocks' variables (LUA_INCDIR, CFLAGS, LIBFLAG, PREFIX,
# LIBDIR, LUADIR), so `build.type = "make"` works as well as the builtin rockspec build.
LUA        ?= lua5.4
LUA_INCDIR ?= /usr/include/lua5.4
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib/lua/5.4
LUADIR     ?= $(PREFIX)/share/lua/5.4
BINDIR     ?= $(PREFIX)/bin
CC         ?= cc
CFLAGS     ?= -O2 -fPIC
LIBFLAG    ?= -shared
WARN       = -std=c99 -Wall -Wextra -pedantic -Wshadow -Wcast-qual -Wmissing-prototypes \
             -Wstrict-prototypes -Wwrite-strings
DEFS       = -D_POSIX_C_SOURCE=200809L
LIBS       = -lpthread -lsodium
WERROR     ?=
BUSTED     = $(LUA) /usr/bin/busted

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:src/%.c=build/obj/%.o)
HDRS = $(wildcard src/*.h)

.PHONY: all test lint bench install clean asan valgrind docs demo

all: build/dana/core.so

build/obj/%.o: src/%.c $(HDRS)
	@mkdir -p build/obj
	$(CC) $(CFLAGS) $(WARN) $(WERROR) $(DEFS) -I$(LUA_INCDIR) -c $< -o $@

build/dana/core.so: $(OBJS)
	@mkdir -p build/dana
	$(CC) $(LIBFLAG) $(CFLAGS) -o $@ $(OBJS) $(LIBS)

# The test command CI and the README use: ends with "N passed, N failed".
test: all
	@$(LUA) tools/run-specs.lua $(SPEC)

# The bundled example, end to end.
demo: all
	bin/dana run examples/hello.na

lint:
	luacheck lua spec bin/dana $(wildcard bench tools examples)
	$(MAKE) -B WERROR=-Werror all

bench: all
	@for b in bench/*.lua; do echo "== $$b"; $(LUA) $$b || exit 1; done

# C specs under AddressSanitizer (the module and the interpreter share the ASan runtime
# through LD_PRELOAD, since lua5.4 itself is not instrumented).
asan:
	$(MAKE) -B CFLAGS="-O1 -g -fPIC -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LIBS="-lpthread -lsodium -fsanitize=address,undefined" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  $(LUA) tools/run-specs.lua spec/core_spec.lua spec/attacks_spec.lua spec/value_spec.lua \
	  spec/guard_spec.lua spec/reason_spec.lua spec/sanitize_spec.lua spec/audit_spec.lua spec/policy_spec.lua \
	  spec/lexer_parity_spec.lua spec/codegen_spec.lua
	$(MAKE) -B all

valgrind: all
	valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
	  --suppressions=tools/valgrind.supp $(LUA) tools/run-specs.lua spec/core_spec.lua spec/value_spec.lua spec/guard_spec.lua

install: all
	install -d $(DESTDIR)$(LIBDIR)/dana $(DESTDIR)$(LUADIR)/dana $(DESTDIR)$(BINDIR)
	install -m 0755 build/dana/core.so $(DESTDIR)$(LIBDIR)/dana/core.so
	install -m 0644 lua/dana/*.lua $(DESTDIR)$(LUADIR)/dana/
	install -m 0755 bin/dana $(DESTDIR)$(BINDIR)/dana

docs:
	ldoc .

clean:
	rm -rf build dana/*.so src/*.o
