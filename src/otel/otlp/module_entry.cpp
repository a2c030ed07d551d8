// kiq_otlp_module(): the entry point of libkiq_otlp.so, looked up with dlsym by the loader
// (only in the module, see module.hpp).
#include "otel/otlp/module.hpp"

extern "C" __attribute__((visibility("default"))) const kiq::otel::otlp::ModuleInfo*
kiq_otlp_module() {
  return &kiq::otel::otlp::module_info();
}
