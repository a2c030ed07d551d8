// Helpers shared by the otel unit tests.
#pragma once

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"

namespace kiq::otel::testing {

// Sets (or unsets, with nullopt) an environment variable for the scope; restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A provider with a SimpleSpanProcessor into an in-memory exporter.
struct TestSdk {
  std::shared_ptr<sdk::InMemorySpanExporter> exporter = std::make_shared<sdk::InMemorySpanExporter>();
  std::shared_ptr<sdk::TracerProvider> provider;
  TracerPtr tracer;

  explicit TestSdk(sdk::TracerProviderOptions options = {}) {
    options.processors.push_back(std::make_shared<sdk::SimpleSpanProcessor>(exporter));
    provider = std::make_shared<sdk::TracerProvider>(std::move(options));
    tracer = provider->get_tracer("kiq.test", "1.0");
  }
};

inline const AttributeValue* find_attr(const Attributes& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

}  // namespace kiq::otel::testing
