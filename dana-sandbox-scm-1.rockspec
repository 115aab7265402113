rockspec_format = "3.0"
package = "dana-sandbox"
version = "scm-1"
source = { url = "git+file:///work/main" }
description = {
  summary = "Run untrusted Dana and Lua code in sandboxed Lua 5.4 states",
  detailed = [[A Lua 5.4 rock in C and Lua: the Dana Sandbox Security Architecture (scopes,
sanitization, roles, audit log, resource limits) for Lua-embedding hosts.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5", "lpeg >= 1.0", "lua-cjson" }
external_dependencies = { SODIUM = { header = "sodium.h", library = "sodium" } }
build = {
  type = "builtin",
  modules = {
    ["dana.core"] = {
      sources = {
        "src/access.c",
        "src/agentlib.c",
        "src/audit.c",
        "src/context.c",
        "src/core.c",
        "src/error.c",
        "src/guard.c",
        "src/lexer.c",
        "src/limits.c",
        "src/policy.c",
        "src/sanitize.c",
        "src/scope.c",
        "src/scopeaccess.c",
        "src/value.c",
        "src/vlib.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      libraries = { "sodium", "pthread" },
      incdirs = { "src", "$(SODIUM_INCDIR)" },
      libdirs = { "$(SODIUM_LIBDIR)" },
    },
    ["dana.analyze"] = "lua/dana/analyze.lua",
    ["dana.ast"] = "lua/dana/ast.lua",
    ["dana.audit"] = "lua/dana/audit.lua",
    ["dana.check"] = "lua/dana/check.lua",
    ["dana.cli"] = "lua/dana/cli.lua",
    ["dana.cli_audit"] = "lua/dana/cli_audit.lua",
    ["dana.cli_policy"] = "lua/dana/cli_policy.lua",
    ["dana.codegen"] = "lua/dana/codegen.lua",
    ["dana.diag"] = "lua/dana/diag.lua",
    ["dana.grammar"] = "lua/dana/grammar.lua",
    ["dana.hostvalues"] = "lua/dana/hostvalues.lua",
    ["dana"] = "lua/dana/init.lua",
    ["dana.lexer"] = "lua/dana/lexer.lua",
    ["dana.policy"] = "lua/dana/policy.lua",
    ["dana.reason"] = "lua/dana/reason.lua",
    ["dana.runtime"] = "lua/dana/runtime.lua",
    ["dana.runtime_builtins"] = "lua/dana/runtime_builtins.lua",
    ["dana.runtime_env"] = "lua/dana/runtime_env.lua",
    ["dana.runtime_manifest"] = "lua/dana/runtime_manifest.lua",
    ["dana.runtime_methods"] = "lua/dana/runtime_methods.lua",
    ["dana.sanitize"] = "lua/dana/sanitize.lua",
    ["dana.translate"] = "lua/dana/translate.lua",
  },
  install = { bin = { dana = "bin/dana" } },
}
