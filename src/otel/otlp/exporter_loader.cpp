// make_otlp_http_exporter(): the exporter from kiq_otlp when the program links it statically,
// else from libkiq_otlp.so, loaded once on first use (see module.hpp and otlp_http.hpp).
#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "otel/otlp/env_options.hpp"
#include "otel/otlp/module.hpp"

#ifndef KIQ_VERSION_STRING
#define KIQ_VERSION_STRING "unknown"
#endif
#ifndef KIQ_OTLP_MODULE_BUILD_PATH
#define KIQ_OTLP_MODULE_BUILD_PATH ""
#endif

// Weak: null unless the program links kiq_otlp (whose link option forces the definition in).
extern "C" __attribute__((weak)) const kiq::otel::otlp::ModuleInfo* kiq_otlp_linked_module();

namespace kiq::otel::otlp {
namespace {

constexpr const char* kModuleFile = "libkiq_otlp.so";
constexpr const char* kModuleEnv = "KIQ_OTLP_MODULE";

// Where the module is looked for, first match wins: $KIQ_OTLP_MODULE alone when set and not
// empty; else next to the executable, ../lib of it (an installed layout), the build tree that
// produced this code (tests and tools run from it), and last the dynamic linker's own search
// (LD_LIBRARY_PATH, ld.so.cache).
std::vector<std::string> module_candidates() {
  if (auto path = process_env(kModuleEnv); path && !path->empty()) return {*path};
  std::vector<std::string> paths;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back((exe.parent_path() / kModuleFile).string());
    paths.push_back((exe.parent_path().parent_path() / "lib" / kModuleFile).string());
  }
  if (std::string_view(KIQ_OTLP_MODULE_BUILD_PATH).size() > 0) {
    paths.push_back(KIQ_OTLP_MODULE_BUILD_PATH);
  }
  paths.push_back(kModuleFile);
  return paths;
}

// Empty when `info` was built from the same kiq and with the same settings as this code.
std::string mismatch(const ModuleInfo& info) {
  const ModuleInfo expected{.version = KIQ_VERSION_STRING};
  if (info.abi != expected.abi || info.span_data_size != expected.span_data_size ||
      info.options_size != expected.options_size || !info.version || !info.flavor ||
      std::string_view(info.version) != expected.version ||
      std::string_view(info.flavor) != expected.flavor || !info.create) {
    return fmt::format("it was built from another kiq build (version {}, sanitizers '{}') than this "
                       "program (version {}, sanitizers '{}'); rebuild both from one tree",
                       info.version ? info.version : "?", info.flavor ? info.flavor : "?",
                       expected.version, expected.flavor);
  }
  return "";
}

struct Loaded {
  const ModuleInfo* info = nullptr;
  std::string error;  // why info is null
};

Loaded load_module() {
  std::vector<std::string> failures;
  auto failed = [&] {
    return Loaded{nullptr, fmt::format(
        "OTLP export needs the OTLP/HTTP exporter module {}, which could not be loaded ({}). "
        "Build it next to the kiq binary (scripts/build release kiq builds both), point {} at "
        "it, or link your program with the kiq_otlp library",
        kModuleFile, fmt::join(failures, "; "), kModuleEnv)};
  };
  for (const auto& path : module_candidates()) {
    // RTLD_NOW: a symbol the module cannot resolve is reported here, not as a crash later.
    // The handle is never closed: exporters created from it live until process exit.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      failures.push_back(why ? why : path + ": cannot be loaded");
      continue;
    }
    // The first module that loads is the one: its initialisers (protobuf descriptors) have
    // run, so a second module could not be loaded after it. A wrong one is an error.
    auto entry = reinterpret_cast<const ModuleInfo* (*)()>(::dlsym(handle, "kiq_otlp_module"));
    const ModuleInfo* info = entry ? entry() : nullptr;
    if (!info) {
      failures.push_back(path + ": not a kiq OTLP module (no kiq_otlp_module entry point)");
    } else if (std::string why = mismatch(*info); !why.empty()) {
      failures.push_back(path + ": " + why);
    } else if (info->set_global_provider != &otel::set_tracer_provider) {
      failures.push_back(path + ": it would use its own copy of kiq's tracing globals, because "
                         "this program does not export its kiq symbols (link it with the "
                         "kiq_otlp_dynamic CMake target, or link kiq_otlp instead)");
    } else {
      return {info, ""};
    }
    return failed();
  }
  return failed();
}

// Resolved once per process (function-local static: thread-safe initialisation); a failure is
// remembered too, so every later attempt reports the same error without retrying dlopen.
const ModuleInfo& exporter_module() {
  static const Loaded loaded = [] {
    if (kiq_otlp_linked_module) return Loaded{kiq_otlp_linked_module(), ""};
    return load_module();
  }();
  if (!loaded.info) throw std::runtime_error(loaded.error);
  return *loaded.info;
}

}  // namespace
}  // namespace kiq::otel::otlp

namespace kiq::otel::sdk {

std::shared_ptr<SpanExporter> make_otlp_http_exporter(OtlpHttpExporterOptions options) {
  return otlp::exporter_module().create(std::move(options));
}

bool otlp_http_exporter_available(std::string* error) {
  try {
    otlp::exporter_module();
    return true;
  } catch (const std::runtime_error& e) {
    if (error) *error = e.what();
    return false;
  }
}

}  // namespace kiq::otel::sdk
