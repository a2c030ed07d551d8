// OTLP protobuf encoding of a BatchSpanProcessor-sized batch of job spans: the direct wire
// encoder (what the exporter uses) vs the generated-code reference (to_proto + Serialize).
//   build-rel/bench/micro/kiq_otlp_micro_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "otel/otlp/encoding.hpp"

namespace {

using namespace kiq::otel;

// Spans shaped like kiq's CONSUMER job spans (remote parent, 13 attributes, the created_at and
// enqueued_at events: ~500 bytes each, like what bench/run tracing exports).
std::vector<sdk::SpanData> job_spans(std::size_t n) {
  auto resource = std::make_shared<const sdk::Resource>(Attributes{
      {"service.name", std::string("kiq-bench")},
      {"telemetry.sdk.name", std::string("kiq")},
      {"telemetry.sdk.language", std::string("cpp")},
      {"telemetry.sdk.version", std::string("0.1.0")},
      {"host.name", std::string("worker-1")},
      {"process.pid", std::int64_t{4242}}});
  auto scope = std::make_shared<sdk::InstrumentationScope>();
  scope->name = "kiq";
  scope->version = "0.1.0";
  std::vector<sdk::SpanData> spans(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& s = spans[i];
    std::array<std::uint8_t, 16> t{};
    std::array<std::uint8_t, 8> id{};
    std::array<std::uint8_t, 8> parent{};
    for (std::size_t b = 0; b < 16; ++b) t[b] = static_cast<std::uint8_t>(i * 7 + b + 1);
    for (std::size_t b = 0; b < 8; ++b) id[b] = static_cast<std::uint8_t>(i * 3 + b + 1);
    for (std::size_t b = 0; b < 8; ++b) parent[b] = static_cast<std::uint8_t>(i * 5 + b + 2);
    s.context = SpanContext(TraceId(t), SpanId(id), TraceFlags(TraceFlags::kSampled), false);
    s.parent_span_id = SpanId(parent);
    s.parent_is_remote = true;
    s.name = "process NoopJob";
    s.kind = SpanKind::kConsumer;
    s.start_unix_nano = 1700000000000000000ULL + i * 1000;
    s.end_unix_nano = s.start_unix_nano + 12345;
    const std::string jid = "0123456789abcdef01234" + std::to_string(i % 1000);
    s.attributes = {{"messaging.system", std::string("sidekiq")},
                    {"messaging.operation", std::string("process")},
                    {"messaging.destination.name", std::string("default")},
                    {"messaging.message.id", jid},
                    {"sidekiq.job.class", std::string("NoopJob")},
                    {"sidekiq.job.jid", jid},
                    {"job.queue_wait_time_ms", std::int64_t{3}},
                    {"kiq.job.outcome", std::string("success")},
                    {"sidekiq.job.will_retry", false},
                    {"messaging.client.id", std::string("worker-1:4242:0f3a9c")},
                    {"thread.id", std::int64_t{7}},
                    {"job.retry_count", std::int64_t{0}},
                    {"code.namespace", std::string("NoopJob")}};
    s.events = {{"created_at", s.start_unix_nano - 5000000, {}, 0},
                {"enqueued_at", s.start_unix_nano - 4000000, {}, 0}};
    s.resource = resource;
    s.scope = scope;
  }
  return spans;
}

void BM_EncodeWire(benchmark::State& state) {
  const auto spans = job_spans(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(kiq::otel::otlp::encode_protobuf(spans));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeWire)->Arg(512)->Arg(1);

// What the exporter does: one WireEncoder, batch after batch (kept buffer, cached resource).
void BM_EncodeWireReused(benchmark::State& state) {
  const auto spans = job_spans(static_cast<std::size_t>(state.range(0)));
  kiq::otel::otlp::WireEncoder encoder;
  for (auto _ : state) benchmark::DoNotOptimize(encoder.encode(spans).size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeWireReused)->Arg(512)->Arg(1);

// As in `kiq server`: the spans were just made by another thread (other core's cache, fresh
// heap memory), then encoded here. Span creation is not timed.
void BM_EncodeWireFreshFromOtherThread(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  kiq::otel::otlp::WireEncoder encoder;
  std::vector<std::vector<sdk::SpanData>> keep;  // freed later, like spans in flight
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<sdk::SpanData> spans;
    std::thread([&] { spans = job_spans(n); }).join();
    keep.push_back(std::move(spans));
    if (keep.size() > 8) keep.erase(keep.begin());
    state.ResumeTiming();
    benchmark::DoNotOptimize(encoder.encode(keep.back()).size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeWireFreshFromOtherThread)->Arg(512);

// What a job thread does as its span ends (the batch processor's serialized path): one span
// into a kept scratch buffer, the span's memory in this core's cache.
void BM_SerializeSpan(benchmark::State& state) {
  const auto spans = job_spans(64);
  std::string scratch;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kiq::otel::otlp::serialize_span(spans[i], scratch).size());
    i = (i + 1) % spans.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeSpan);

void BM_EncodeGenerated(benchmark::State& state) {
  const auto spans = job_spans(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(kiq::otel::otlp::encode_protobuf_generated(spans));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeGenerated)->Arg(512)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
