// The seam between the code that creates OTLP exporters (make_otlp_http_exporter() in
// kiq_otel_configure) and the exporter itself, so that a `kiq` process that never exports does
// not map libprotobuf/libcurl/zlib. The exporter side publishes one descriptor, reachable
//   - statically: kiq_otlp_linked_module(), defined in the kiq_otlp static library (a program
//     that links kiq_otlp is forced to include it, see CMakeLists.txt), or
//   - dynamically: kiq_otlp_module(), exported by libkiq_otlp.so, which the loader dlopens on
//     first use when nothing was linked statically.
// Both sides are built from one tree with one compiler, so the descriptor may carry C++ types;
// the checked fields catch a module from another build (other kiq version, sanitizer or
// layout of the types that cross the seam) before anything is called.
//
// Thread-safety: the descriptor is immutable; create() may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "kiq/otel/sdk/exporter.hpp"
#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/otel/tracer_provider.hpp"

#ifndef KIQ_OTLP_FLAVOR
#define KIQ_OTLP_FLAVOR "unknown"  // CMake sets it: the sanitizers of the build ("" for none)
#endif

namespace kiq::otel::otlp {

// Bumped when ModuleInfo itself or the interface of a class crossing the seam changes without
// changing the sizes checked below (2: SpanExporter::serializer() and export_serialized()).
inline constexpr std::uint32_t kModuleAbi = 2;

struct ModuleInfo {
  std::uint32_t abi = kModuleAbi;
  std::uint32_t span_data_size = sizeof(sdk::SpanData);
  std::uint32_t options_size = sizeof(sdk::OtlpHttpExporterOptions);
  const char* version = nullptr;          // kiq version the exporter was built from
  const char* flavor = KIQ_OTLP_FLAVOR;   // sanitizers it was built with
  std::shared_ptr<sdk::SpanExporter> (*create)(sdk::OtlpHttpExporterOptions options) = nullptr;
  // kiq::otel::set_tracer_provider as the exporter side resolved it: the loader compares it
  // with its own to make sure the module uses the program's kiq_otel, not a second copy of
  // its globals (which happens when the program does not export its kiq symbols).
  void (*set_global_provider)(std::shared_ptr<otel::TracerProvider>) = nullptr;
};

// The exporter side's descriptor (module_info.cpp, part of kiq_otlp and of libkiq_otlp.so).
const ModuleInfo& module_info();

}  // namespace kiq::otel::otlp

extern "C" {
// Defined by kiq_otlp (static); the loader refers to it weakly (null when not linked).
const kiq::otel::otlp::ModuleInfo* kiq_otlp_linked_module();
// Exported by libkiq_otlp.so; the loader looks it up with dlsym.
const kiq::otel::otlp::ModuleInfo* kiq_otlp_module();
}
