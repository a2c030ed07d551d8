// kiq_otlp_linked_module(): makes the statically linked exporter the one
// make_otlp_http_exporter() uses (only in the kiq_otlp static library, see module.hpp).
#include "otel/otlp/module.hpp"

extern "C" const kiq::otel::otlp::ModuleInfo* kiq_otlp_linked_module() {
  return &kiq::otel::otlp::module_info();
}
