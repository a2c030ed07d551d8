// Micro-benchmarks of the tracing hot paths: span start + 3 attributes + end with a
// BatchSpanProcessor and a discarding exporter (the < 200 ns target), the no-op API, ids,
// in_span, and traceparent inject/extract.
#include <benchmark/benchmark.h>

#include <map>

#include "kiq/otel/propagation.hpp"
#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace {

using namespace kiq::otel;

class DiscardingExporter final : public sdk::SpanExporter {
 public:
  sdk::ExportResult export_spans(std::span<const sdk::SpanData>) override {
    return sdk::ExportResult::kSuccess;
  }
  bool shutdown(std::chrono::milliseconds) override { return true; }
};

struct Sdk {
  std::shared_ptr<sdk::BatchSpanProcessor> bsp;
  std::unique_ptr<sdk::TracerProvider> provider;
  TracerPtr tracer;
  Sdk() {
    // A queue large enough that the benchmark measures recording, not dropping.
    bsp = std::make_shared<sdk::BatchSpanProcessor>(
        std::make_shared<DiscardingExporter>(),
        sdk::BatchSpanProcessorOptions{.max_queue_size = 1 << 16});
    provider = std::make_unique<sdk::TracerProvider>(
        sdk::TracerProviderOptions{.processors = {bsp}});
    tracer = provider->get_tracer("kiq.micro", "1.0");
  }
};

void BM_SpanStart3AttrsEnd(benchmark::State& state) {
  static Sdk sdk;
  std::int64_t i = 0;
  for (auto _ : state) {
    SpanPtr span = sdk.tracer->start_span("bench-span");
    span->set_attribute("attr.int", ++i);
    span->set_attribute("attr.str", "value");
    span->set_attribute("attr.bool", true);
    span->end();
  }
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(sdk.bsp->dropped_spans());
  }
}
BENCHMARK(BM_SpanStart3AttrsEnd)->Threads(1)->Threads(2);

void BM_InSpan(benchmark::State& state) {
  static Sdk sdk;
  for (auto _ : state) {
    sdk.tracer->in_span("in-span", [](Span& s) { s.set_attribute("k", 1); });
  }
}
BENCHMARK(BM_InSpan);

void BM_NoopSpan(benchmark::State& state) {
  TracerPtr tracer = noop_tracer();
  for (auto _ : state) {
    SpanPtr span = tracer->start_span("noop");
    span->set_attribute("attr.int", 1);
    span->end();
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(BM_NoopSpan);

void BM_Ids(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(TraceId::random());
    benchmark::DoNotOptimize(SpanId::random());
  }
}
BENCHMARK(BM_Ids);

void BM_TraceparentInjectExtract(benchmark::State& state) {
  SpanContext sc(TraceId::random(), SpanId::random(), TraceFlags(1), false);
  Context ctx = Context().with_span(make_non_recording_span(sc));
  TraceContextPropagator p;
  for (auto _ : state) {
    std::map<std::string, std::string> m;
    MapCarrier carrier(m);
    p.inject(ctx, carrier);
    benchmark::DoNotOptimize(p.extract(carrier, Context()));
  }
}
BENCHMARK(BM_TraceparentInjectExtract);

// What the job middleware does per job: read the global provider and the global propagator.
// Run with many threads to show contention on how the globals are stored.
void BM_GlobalReads(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(tracer_provider());
    benchmark::DoNotOptimize(global_propagator());
  }
}
BENCHMARK(BM_GlobalReads)->Threads(1)->Threads(2)->Threads(10)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
