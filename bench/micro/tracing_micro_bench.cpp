// Micro-benchmark of the job tracing middleware's per-push cost on many threads, with tracing
// off (no-op provider: only the reads of the global provider/propagator remain) and on (SDK
// provider, discarding exporter). Shows contention on how the globals are read.
#include <benchmark/benchmark.h>

#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "kiq/tracing.hpp"

namespace {

using namespace kiq;

class DiscardingExporter final : public otel::sdk::SpanExporter {
 public:
  otel::sdk::ExportResult export_spans(std::span<const otel::sdk::SpanData>) override {
    return otel::sdk::ExportResult::kSuccess;
  }
  bool shutdown(std::chrono::milliseconds) override { return true; }
};

Json sample_job() {
  return {{"class", "NoopJob"}, {"jid", "0123456789abcdef01234567"}, {"queue", "default"}};
}

void push_loop(benchmark::State& state) {
  static const auto middleware = tracing::make_client_middleware();
  const std::function<bool()> next = [] { return true; };
  for (auto _ : state) {
    Json job = sample_job();
    ClientCall call{job, "default"};
    benchmark::DoNotOptimize(middleware->call(call, next));
  }
}

// Tracing off and the same (unmodified) job every time: what is left is the middleware reading
// the globals.
void BM_ClientMiddlewareOff(benchmark::State& state) {
  if (state.thread_index() == 0) otel::set_tracer_provider(nullptr);
  static const auto middleware = tracing::make_client_middleware();
  const std::function<bool()> next = [] { return true; };
  Json job = sample_job();
  ClientCall call{job, "default"};
  for (auto _ : state) benchmark::DoNotOptimize(middleware->call(call, next));
}
BENCHMARK(BM_ClientMiddlewareOff)->Threads(1)->Threads(10)->UseRealTime();

void BM_ClientMiddlewareOn(benchmark::State& state) {
  static const auto provider = [] {
    otel::sdk::TracerProviderOptions options;
    options.processors.push_back(std::make_shared<otel::sdk::SimpleSpanProcessor>(
        std::make_shared<DiscardingExporter>()));
    return std::make_shared<otel::sdk::TracerProvider>(std::move(options));
  }();
  if (state.thread_index() == 0) otel::set_tracer_provider(provider);
  push_loop(state);
}
BENCHMARK(BM_ClientMiddlewareOn)->Threads(1)->Threads(10)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
