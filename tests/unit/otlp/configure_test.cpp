// configure(): environment + code options -> global provider, exporters, propagators.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "kiq/otel/propagation.hpp"
#include "kiq/otel/sdk/configure.hpp"
#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "unit/otlp/otlp_receiver.hpp"

namespace kiq::otel::sdk {
namespace {

using namespace std::chrono_literals;

// Sets variables for one test and restores the previous values afterwards. Every OTEL_ variable
// the tests touch is cleared first so the outer environment cannot leak in.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::initializer_list<std::pair<std::string, std::string>> vars) {
    for (const char* name :
         {"OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_PROPAGATORS",
          "OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
          "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
          "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
          "OTEL_BSP_SCHEDULE_DELAY"}) {
      save(name);
      ::unsetenv(name);
    }
    for (const auto& [name, value] : vars) {
      save(name);
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  void save(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

std::shared_ptr<InMemorySpanExporter> memory_exporter(ConfigureOptions& options) {
  auto exporter = std::make_shared<InMemorySpanExporter>();
  options.extra_processors.push_back(std::make_shared<SimpleSpanProcessor>(exporter));
  return exporter;
}

std::string service_name(const SpanData& span) {
  const AttributeValue* v = span.resource ? span.resource->find("service.name") : nullptr;
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
}

TEST(Configure, InstallsAGlobalProviderAndTheGuardRemovesIt) {
  ScopedEnv env({});
  ConfigureOptions options;
  options.service_name = "billing";
  options.traces_exporter = "none";
  auto memory = memory_exporter(options);
  {
    TracingGuard guard = configure(options);
    ASSERT_TRUE(guard.enabled());
    EXPECT_EQ(tracer_provider(), guard.api_provider());
    auto span = get_tracer("test", "1.2")->start_span("work");
    EXPECT_TRUE(span->is_recording());
    span->end();
  }
  auto spans = memory->finished_spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "work");
  EXPECT_EQ(service_name(spans[0]), "billing");
  ASSERT_TRUE(spans[0].scope);
  EXPECT_EQ(spans[0].scope->name, "test");
  EXPECT_EQ(spans[0].scope->version, "1.2");
  // After the guard: the no-op provider again.
  EXPECT_FALSE(get_tracer("test")->start_span("after")->is_recording());
}

TEST(Configure, SdkDisabledInstallsNoopButStillSetsPropagators) {
  ScopedEnv env({{"OTEL_SDK_DISABLED", "TRUE"}, {"OTEL_PROPAGATORS", "baggage"}});
  TracingGuard guard = configure();
  EXPECT_FALSE(guard.enabled());
  EXPECT_FALSE(get_tracer("test")->start_span("x")->is_recording());
  EXPECT_FALSE(guard.api_provider()->get_tracer("t")->start_span("x")->is_recording());
  EXPECT_EQ(global_propagator()->fields(), std::vector<std::string>{"baggage"});
  set_global_propagator(nullptr);
}

TEST(Configure, DisabledFromCode) {
  ScopedEnv env({});
  ConfigureOptions options;
  options.disabled = true;
  TracingGuard guard = configure(options);
  EXPECT_FALSE(guard.enabled());
}

TEST(Configure, ServiceNameFromEnvironmentUnlessCodeGivesOne) {
  ScopedEnv env({{"OTEL_SERVICE_NAME", "from-env"},
                 {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging"}});
  {
    ConfigureOptions options;
    options.traces_exporter = "none";
    auto memory = memory_exporter(options);
    TracingGuard guard = configure(options);
    get_tracer("t")->start_span("a")->end();
    guard.shutdown();
    ASSERT_EQ(memory->size(), 1u);
    auto span = memory->finished_spans()[0];
    EXPECT_EQ(service_name(span), "from-env");
    EXPECT_NE(span.resource->find("deployment.environment"), nullptr);
    EXPECT_NE(span.resource->find("telemetry.sdk.language"), nullptr);
  }
  {
    ConfigureOptions options;
    options.traces_exporter = "none";
    options.service_name = "from-code";
    options.resource_attributes = {{"team", std::string("payments")}};
    auto memory = memory_exporter(options);
    TracingGuard guard = configure(options);
    get_tracer("t")->start_span("a")->end();
    guard.shutdown();
    ASSERT_EQ(memory->size(), 1u);
    auto span = memory->finished_spans()[0];
    EXPECT_EQ(service_name(span), "from-code");
    EXPECT_NE(span.resource->find("team"), nullptr);
  }
}

TEST(Configure, SamplerFromEnvironment) {
  ScopedEnv env({{"OTEL_TRACES_SAMPLER", "always_off"}, {"OTEL_TRACES_EXPORTER", "none"}});
  TracingGuard guard = configure();
  ASSERT_TRUE(guard.enabled());
  EXPECT_FALSE(get_tracer("t")->start_span("sampled out")->is_recording());
}

TEST(Configure, ConsoleExporterWritesToTheGivenStream) {
  ScopedEnv env({{"OTEL_TRACES_EXPORTER", "console"}});
  std::ostringstream out;
  ConfigureOptions options;
  options.console_out = &out;
  TracingGuard guard = configure(options);
  get_tracer("t")->start_span("printed-span")->end();
  guard.shutdown();
  EXPECT_NE(out.str().find("printed-span"), std::string::npos) << out.str();
}

TEST(Configure, UnknownExporterIsWarnedAboutAndSkipped) {
  ScopedEnv env({{"OTEL_TRACES_EXPORTER", "zipkin,none"}});
  ::testing::internal::CaptureStderr();
  TracingGuard guard = configure();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(guard.enabled());
  EXPECT_NE(err.find("zipkin"), std::string::npos) << err;
}

TEST(Configure, OtlpFromEnvironmentReachesTheCollector) {
  testing::OtlpReceiver receiver;
  ScopedEnv env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(receiver.port())},
                 {"OTEL_SERVICE_NAME", "otlp-e2e"}});  // OTEL_TRACES_EXPORTER unset: otlp
  TracingGuard guard = configure();
  auto tracer = get_tracer("e2e");
  tracer->in_span("outer", [&] { tracer->start_span("inner")->end(); });
  EXPECT_TRUE(guard.force_flush(30s));
  auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v1/traces");
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(requests[0].body));
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& spans = request.resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(spans.size(), 2);
  EXPECT_EQ(spans[0].name(), "inner");
  EXPECT_EQ(spans[1].name(), "outer");
  EXPECT_EQ(spans[0].parent_span_id(), spans[1].span_id());
  bool found = false;
  for (const auto& kv : request.resource_spans(0).resource().attributes()) {
    if (kv.key() == "service.name") found = kv.value().string_value() == "otlp-e2e";
  }
  EXPECT_TRUE(found);
}

// This test links kiq_otlp, so the exporter is the linked one: nothing is loaded, even when
// KIQ_OTLP_MODULE points nowhere (the binary's dlopen path is tests/integration/otlp_module).
TEST(MakeOtlpHttpExporter, UsesTheLinkedExporterWithoutLoadingTheModule) {
  ::setenv("KIQ_OTLP_MODULE", "/nonexistent/libkiq_otlp.so", 1);
  std::string error;
  EXPECT_TRUE(otlp_http_exporter_available(&error)) << error;
  OtlpHttpExporterOptions options;
  options.endpoint = "http://127.0.0.1:9/v1/traces";
  auto exporter = make_otlp_http_exporter(options);
  ::unsetenv("KIQ_OTLP_MODULE");
  auto* otlp = dynamic_cast<OtlpHttpExporter*>(exporter.get());
  ASSERT_NE(otlp, nullptr);
  EXPECT_EQ(otlp->options().endpoint, "http://127.0.0.1:9/v1/traces");
  EXPECT_TRUE(exporter->shutdown(1s));
  std::ifstream maps("/proc/self/maps");
  std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_EQ(mapped.find("libkiq_otlp.so"), std::string::npos);
}

}  // namespace
}  // namespace kiq::otel::sdk
