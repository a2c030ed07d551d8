// Fuzzes the job tracing middlewares on an arbitrary job hash, as a Rails app or any other
// client could write it: the server middleware (extracting traceparent/tracestate/baggage from
// the hash, queue wait from enqueued_at, drift from scheduled_at, retry_count, the failure
// path) and the client middleware (injecting into a hash whose context keys may already hold
// anything). Invariants: nothing crashes; each run ends exactly one CONSUMER span; every span
// made re-encodes to OTLP protobuf byte-identical to the generated classes' encoding and that
// decodes back to the same number of spans.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "kiq/instrumentation/testing.hpp"
#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "otel/otlp/encoding.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

kiq::JobRegistry make_registry() {
  kiq::JobRegistry r;
  r.add("NoopJob", [](kiq::JobContext&, const kiq::Json&) {});
  r.add("FailJob", [](kiq::JobContext&, const kiq::Json&) { throw std::runtime_error("fuzz"); });
  // Enqueues from inside the job: the client middleware under a running consumer span.
  r.add("ParentJob", [](kiq::JobContext& ctx, const kiq::Json& args) {
    ctx.client().push(kiq::Json{{"class", "NoopJob"}, {"args", args}});
  });
  return r;
}

kiq::tracing::TracingOptions options() {
  kiq::tracing::TracingOptions o;
  o.semconv = kiq::tracing::SemconvMode::kDup;  // both attribute sets: the most code
  o.long_queue_wait = std::chrono::milliseconds(0);  // events on every run
  o.schedule_drift = std::chrono::seconds(0);
  return o;
}

// What the harness (like the server's processor) requires before a hash reaches the chain.
bool reaches_middleware(const kiq::Json& job) {
  auto cls = job.find("class");
  auto queue = job.find("queue");
  if (queue != job.end() && !queue->is_string()) return false;
  if (cls == job.end() || !cls->is_string()) return false;
  const auto& name = cls->get_ref<const std::string&>();
  return name == "NoopJob" || name == "FailJob" || name == "ParentJob";
}

void check_encodes(const std::vector<kiq::otel::sdk::SpanData>& spans) {
  std::string proto = kiq::otel::otlp::encode_protobuf(spans);
  check(proto == kiq::otel::otlp::encode_protobuf_generated(spans));
  (void)kiq::otel::otlp::encode_json(spans);
  auto again = kiq::otel::sdk::decode_otlp_protobuf(proto);
  check(again && again->size() == spans.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kiq::JobRegistry registry = make_registry();
  // Fake mode: a job enqueued by ParentJob is collected, not run (one consumer span per input).
  static kiq::testing::TracingHarness harness(registry, options(), kiq::testing::Mode::kFake);

  std::string_view input(reinterpret_cast<const char*>(data), size);
  kiq::Json job = kiq::Json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!job.is_object()) return 0;
  harness.reset();
  harness.jobs().clear();

  try {
    harness.jobs().perform(job);
  } catch (const std::exception&) {
    // FailJob's error, or a hash the harness refuses before the middleware (checked below)
  }
  auto spans = harness.spans();
  std::size_t consumers = 0;
  for (const auto& s : spans) consumers += s.kind == kiq::otel::SpanKind::kConsumer;
  check(consumers == (reaches_middleware(job) ? 1 : 0));
  check_encodes(spans);

  // The client side: push the same hash (normalized or rejected with a clear exception).
  harness.reset();
  try {
    (void)harness.client().push(job);
  } catch (const std::invalid_argument&) {
  }
  check_encodes(harness.spans());
  return 0;
}
