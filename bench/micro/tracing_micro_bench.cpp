// Micro-benchmark of the job tracing middleware's per-push cost on many threads, with tracing
// off (no-op provider: only the reads of the global provider/propagator remain) and on (SDK
// provider, discarding exporter). Shows contention on how the globals are read.
// BM_ServerMiddleware*: the per-job cost of the process span as `kiq server` sets it up (batch
// processor behind the job-attributes processor, discarding exporter), with the heap
// allocations per job made on the job's thread (counter allocs_per_job; the goal is 0).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>

#include "kiq/client.hpp"
#include "kiq/job.hpp"
#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/store/memory.hpp"

#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "kiq/tracing.hpp"

namespace {

// Counts this thread's allocations (operator new) for BM_ServerMiddleware*.
thread_local std::uint64_t t_allocations = 0;

}  // namespace

void* operator new(std::size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

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

// The OTLP/HTTP exporter's protobuf serializer with the requests discarded: the batch
// processor's serialized path as `kiq server` runs it with an OTLP endpoint.
class DiscardingSerializedExporter final : public otel::sdk::SpanExporter {
 public:
  otel::sdk::ExportResult export_spans(std::span<const otel::sdk::SpanData>) override {
    return otel::sdk::ExportResult::kSuccess;
  }
  std::shared_ptr<const otel::sdk::SpanSerializer> serializer() const override {
    return serializer_;
  }
  otel::sdk::ExportResult export_serialized(std::span<const otel::sdk::SerializedSpans>) override {
    return otel::sdk::ExportResult::kSuccess;
  }
  bool shutdown(std::chrono::milliseconds) override { return true; }

 private:
  std::shared_ptr<const otel::sdk::SpanSerializer> serializer_ =
      otel::sdk::make_otlp_http_exporter()->serializer();
};

std::shared_ptr<otel::sdk::TracerProvider> provider_exporting_to(
    std::shared_ptr<otel::sdk::SpanExporter> exporter) {
  otel::sdk::TracerProviderOptions options;
  otel::sdk::BatchSpanProcessorOptions batch;
  batch.max_queue_size = 16384;  // as bench/run tracing sets it: no drops on 10 busy threads
  options.processors.push_back(tracing::make_job_attributes_processor(
      std::make_shared<otel::sdk::BatchSpanProcessor>(std::move(exporter), batch)));
  return std::make_shared<otel::sdk::TracerProvider>(std::move(options));
}

const std::shared_ptr<otel::sdk::TracerProvider>& server_provider() {
  static const auto provider = provider_exporting_to(std::make_shared<DiscardingExporter>());
  return provider;
}

const std::shared_ptr<otel::sdk::TracerProvider>& serialized_server_provider() {
  static const auto provider =
      provider_exporting_to(std::make_shared<DiscardingSerializedExporter>());
  return provider;
}

void server_loop(benchmark::State& state, Json job,
                 const std::shared_ptr<otel::sdk::TracerProvider>& provider = server_provider()) {
  if (state.thread_index() == 0) otel::set_tracer_provider(provider);
  static const auto middleware = tracing::make_server_middleware();
  static const auto store = std::make_shared<MemoryStore>();
  static Client client(store);
  JobContext ctx(std::move(job), "default", nullptr, client, *store);
  const std::function<void()> next = [] {};
  std::uint64_t allocations = 0;
  for (auto _ : state) {
    const std::uint64_t before = t_allocations;
    middleware->call(ctx, next);
    allocations += t_allocations - before;
  }
  state.counters["allocs_per_job"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

// Enqueued just now (a long queue wait would add an event with attributes).
Json server_job() {
  const double now = static_cast<double>(otel::now_unix_nanos()) / 1e9;
  return {{"class", "NoopJob"}, {"jid", "0123456789abcdef01234567"}, {"queue", "default"},
          {"args", Json::array()}, {"retry", true}, {"created_at", now - 0.002},
          {"enqueued_at", now - 0.001}};
}

// A NoopJob as `kiq enqueue` pushes it (no trace context).
void BM_ServerMiddlewareOn(benchmark::State& state) { server_loop(state, server_job()); }
BENCHMARK(BM_ServerMiddlewareOn)->Threads(1)->Threads(10)->UseRealTime();

// A job enqueued inside a trace (traceparent in the hash): the process span links to it.
void BM_ServerMiddlewareOnTraced(benchmark::State& state) {
  Json job = server_job();
  job["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  server_loop(state, std::move(job));
}
BENCHMARK(BM_ServerMiddlewareOnTraced)->Threads(1)->Threads(10)->UseRealTime();

// BM_ServerMiddlewareOn through the OTLP serializer (each span encoded as it ends).
void BM_ServerMiddlewareOnSerialized(benchmark::State& state) {
  server_loop(state, server_job(), serialized_server_provider());
}
BENCHMARK(BM_ServerMiddlewareOnSerialized)->Threads(1)->Threads(10)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
