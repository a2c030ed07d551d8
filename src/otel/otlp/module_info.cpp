// The exporter side's descriptor (see module.hpp).
#include "otel/otlp/module.hpp"

namespace kiq::otel::otlp {
namespace {

std::shared_ptr<sdk::SpanExporter> create(sdk::OtlpHttpExporterOptions options) {
  return std::make_shared<sdk::OtlpHttpExporter>(std::move(options));
}

}  // namespace

const ModuleInfo& module_info() {
  static const ModuleInfo info{.version = KIQ_VERSION_STRING, .create = &create,
                               .set_global_provider = &otel::set_tracer_provider};
  return info;
}

}  // namespace kiq::otel::otlp
