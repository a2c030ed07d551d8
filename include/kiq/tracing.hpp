// Job tracing: kiq's port of Ruby's opentelemetry-instrumentation-sidekiq (v0.29.0) plus the
// extras the Sidekiq tracing tutorial writes by hand (queue wait, schedule drift, retries,
// failure outcome, the jid on every span inside a job).
//
//   kiq::ServerOptions options;
//   kiq::tracing::install(options);                       // server + its client chain
//   kiq::Client client(store, kiq::tracing::client_chain());
//
// What it records (names and keys exactly as the Ruby gem, otel.md A):
//   enqueue  PRODUCER "<queue> publish" (or "<JobClass> publish"), attributes messaging.system=
//            sidekiq, messaging.destination, messaging.destination_kind=queue,
//            messaging.sidekiq.job_class (`wrapped` if present), messaging.message_id=jid, and the
//            tutorial's sidekiq.job.{retry,queue,jid} + sidekiq.worker.name; event `created_at`.
//            traceparent / tracestate / baggage are injected as TOP-LEVEL string keys of the job
//            hash (where Ruby puts them) by the global propagator.
//   process  CONSUMER "<queue> process", same attributes + messaging.operation=process; events
//            created_at, enqueued_at; link (default) / child / none to the enqueue context; the
//            extracted baggage is current while the job runs. Extras: job.queue_wait_time_ms and
//            event `long_queue_wait` {wait_time_seconds}; schedule.drift_seconds and event
//            `schedule.drift` for scheduled jobs (from kiq's "scheduled_at" key); on a retry
//            job.retry_count (Sidekiq's value: 0 on the first retry) and event `job.retry`
//            {retry_count, error_class}. On failure: `exception` event, status ERROR
//            "Unhandled exception of type: <T>", sidekiq.job.will_retry and kiq.job.outcome
//            (retry | dead | dropped); the exception is rethrown (the engine retries it).
//   Re-pushes by the scheduler/retry poller (PushOrigin::kScheduler/kRetry) make NO producer
//   span and keep the job's original traceparent (fixing Ruby's bug, otel.md A.4).
//
// "On by default": the middleware is cheap and inert until a tracer provider is installed. It
// reads the tracer provider per call (TracingOptions::tracer_provider, else the global one of
// kiq::otel::set_tracer_provider — the project's one global) and does nothing while that is the
// no-op provider. The `kiq` CLI installs it for every server and client it builds; library
// users call install() once on their options/chains. No other global state is involved.
//
// Thread-safety: the options are values; the middleware objects are immutable after
// construction apart from an internal tracer cache (atomic), and are shared by all workers.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiq/middleware.hpp"
#include "kiq/otel/sdk/span_processor.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace kiq {
struct ServerOptions;
}

namespace kiq::tracing {

// Instrumentation scope of the spans this library makes.
inline constexpr std::string_view kInstrumentationName = "kiq.instrumentation.sidekiq";
inline constexpr std::string_view kInstrumentationVersion = "0.1.0";

enum class SpanNaming { kQueue, kJobClass };           // "<queue> publish" | "<Job> publish"
enum class PropagationStyle { kLink, kChild, kNone };  // process span vs the enqueue context
// Which messaging semantic conventions to emit (OTEL_SEMCONV_STABILITY_OPT_IN):
//   kOld: the Ruby gem's pre-1.17 keys and "<queue> publish" names (default);
//   kNew (`messaging`): messaging.destination.name, messaging.message.id,
//         messaging.operation.{type,name}, error.type, and names "publish <queue>";
//   kDup (`messaging/dup`): both key sets, the old names (dashboards keep working).
enum class SemconvMode { kOld, kNew, kDup };

// Unknown values -> the default, as the Ruby gem validates its options.
SpanNaming parse_span_naming(std::string_view value);           // "queue" | "job_class"
PropagationStyle parse_propagation_style(std::string_view value);  // "link" | "child" | "none"
// Comma list as in the env var; "messaging/dup" wins over "messaging".
SemconvMode parse_semconv(std::string_view opt_in);
SemconvMode semconv_from_env();  // reads OTEL_SEMCONV_STABILITY_OPT_IN
std::string_view to_string(PropagationStyle style);

struct TracingOptions {
  SpanNaming span_naming = SpanNaming::kQueue;
  PropagationStyle propagation_style = PropagationStyle::kLink;
  std::string peer_service;  // non-empty: peer.service on every span this library makes
  // Poller re-pushes get an INTERNAL span "kiq.scheduler enqueue" (never injected: the job keeps
  // its original context). Off by default so traces stay clean (Ruby: trace_poller_enqueue).
  bool trace_poller = false;
  // Each periodic heartbeat of a server gets a root INTERNAL span "kiq.heartbeat" (Ruby:
  // trace_launcher_heartbeat), ERROR when the beat fails. Needs install(ServerOptions&, ...).
  bool trace_heartbeat = false;
  std::chrono::milliseconds long_queue_wait{60000};   // `long_queue_wait` event above this
  std::chrono::seconds schedule_drift{300};           // `schedule.drift` event above this
  std::optional<SemconvMode> semconv;                 // nullopt: from the environment
  // null: the global provider, read on every call (so setting it later turns tracing on).
  std::shared_ptr<otel::TracerProvider> tracer_provider;
};

// The two middlewares (share one options value; build once, add to as many chains as needed).
std::shared_ptr<ClientMiddleware> make_client_middleware(TracingOptions options = {});
std::shared_ptr<ServerMiddleware> make_server_middleware(TracingOptions options = {});

// Prepends (outermost, as Ruby does) the client middleware to `client` and the server
// middleware to `server`. Installing twice is harmless: existing kiq tracing middleware in a
// chain is replaced, not duplicated.
void install(ClientChain& client, ServerChain& server, const TracingOptions& options = {});
// Same into a server's chains (server_middleware + client_middleware for jobs enqueued by jobs
// and poller re-pushes).
void install(ServerOptions& server, const TracingOptions& options = {});
// A client chain holding only the tracing middleware (for `kiq::Client(store, client_chain())`).
ClientChain client_chain(const TracingOptions& options = {});

// SpanProcessor that stamps `sidekiq.job.jid` (and `sidekiq.job.class`) of the job running on
// the current thread onto every span started inside it (the job's own spans, its HTTP/DB
// spans...). Add it to the provider's processors (TracingHarness and `kiq demo` do). Processors
// are fixed at provider construction, hence a separate object. With `next`, it forwards every
// call to `next` (wrap the exporting processor: the SDK copies each span for every processor
// but the last, so a separate no-op processor would cost one SpanData copy per span).
std::shared_ptr<otel::sdk::SpanProcessor> make_job_attributes_processor(
    std::shared_ptr<otel::sdk::SpanProcessor> next = nullptr);

// The jid of the job running on this thread (empty outside jobs). Set by the server middleware.
std::string_view current_job_jid();

}  // namespace kiq::tracing
