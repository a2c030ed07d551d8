// kiq side of `bench/run spans`: span start + 3 attributes + end through the real SDK, with a
// BatchSpanProcessor (default options) and an exporter that discards. Prints one line per run:
//   RESULT kiq threads=<t> spans=<n> ns_per_span=<x> cpu_ns_per_span=<c>
//              thread_cpu_ns_per_span=<c'> dropped=<d>
// ns_per_span = wall time / total spans (so with 2 threads it is the aggregate cost);
// cpu_ns_per_span = CPU time of the whole process (span-making threads AND the BSP's export
// thread) / total spans, like Node's process.cpuUsage(): less noisy on a busy host;
// thread_cpu_ns_per_span = CPU time of the span-making threads only.
//
//   kiq_bench_spans [--spans N] [--threads T] [--warmup N]
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"

namespace {

using namespace kiq::otel;

class DiscardingExporter final : public sdk::SpanExporter {
 public:
  sdk::ExportResult export_spans(std::span<const sdk::SpanData> batch) override {
    exported_.fetch_add(batch.size(), std::memory_order_relaxed);
    return sdk::ExportResult::kSuccess;
  }
  bool shutdown(std::chrono::milliseconds) override { return true; }
  std::uint64_t exported() const { return exported_.load(); }

 private:
  std::atomic<std::uint64_t> exported_{0};
};

void make_spans(Tracer& tracer, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    SpanPtr span = tracer.start_span("bench-span");
    span->set_attribute("attr.int", static_cast<std::int64_t>(i));
    span->set_attribute("attr.str", "value");
    span->set_attribute("attr.bool", true);
    span->end();
  }
}

double cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
double thread_cpu_ns() { return cpu_ns(CLOCK_THREAD_CPUTIME_ID); }

struct Result {
  double ns_per_span;
  double cpu_ns_per_span;  // CPU time of the process (all threads; robust to a busy host)
  double thread_cpu_ns_per_span;  // CPU time of the span-making threads only
  std::uint64_t dropped;
  std::uint64_t exported;
};

Result run(std::size_t spans, int threads, std::size_t warmup) {
  auto exporter = std::make_shared<DiscardingExporter>();
  auto bsp = std::make_shared<sdk::BatchSpanProcessor>(exporter);
  sdk::TracerProviderOptions options;
  options.sampler = std::make_shared<sdk::AlwaysOnSampler>();
  options.processors.push_back(bsp);
  sdk::TracerProvider provider(std::move(options));
  TracerPtr tracer = provider.get_tracer("kiq.bench", "1.0");

  make_spans(*tracer, warmup);
  provider.force_flush();
  std::uint64_t dropped_before = bsp->dropped_spans();

  std::size_t per_thread = spans / static_cast<std::size_t>(threads);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  std::vector<double> cpu(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      double before = thread_cpu_ns();
      make_spans(*tracer, per_thread);
      cpu[static_cast<std::size_t>(t)] = thread_cpu_ns() - before;
    });
  }
  while (ready.load() != threads) std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  double process_cpu_before = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  double process_cpu = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_before;
  provider.shutdown();
  double ns = std::chrono::duration<double, std::nano>(elapsed).count();
  double cpu_total = 0;
  for (double c : cpu) cpu_total += c;
  double total = static_cast<double>(per_thread * static_cast<std::size_t>(threads));
  return {ns / total, process_cpu / total, cpu_total / total, bsp->dropped_spans() - dropped_before,
          exporter->exported()};
}

std::size_t arg_size(int argc, char** argv, const char* name, std::size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t spans = arg_size(argc, argv, "--spans", 2'000'000);
  int threads = static_cast<int>(arg_size(argc, argv, "--threads", 1));
  std::size_t warmup = arg_size(argc, argv, "--warmup", 200'000);
  if (spans == 0 || threads <= 0) {
    std::fprintf(stderr, "usage: kiq_bench_spans [--spans N>0] [--threads T>0] [--warmup N]\n");
    return 2;
  }
  Result r = run(spans, threads, warmup);
  std::printf("RESULT kiq threads=%d spans=%zu ns_per_span=%.1f cpu_ns_per_span=%.1f "
              "thread_cpu_ns_per_span=%.1f dropped=%llu\n",
              threads, spans, r.ns_per_span, r.cpu_ns_per_span, r.thread_cpu_ns_per_span,
              static_cast<unsigned long long>(r.dropped));
  return 0;
}
