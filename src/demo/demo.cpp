// `kiq demo` (see kiq/demo.hpp): set up tracing, enqueue the scenarios from fake web requests,
// run them on a Server over the embedded store, print the traces.
#include "kiq/demo.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "kiq/client.hpp"
#include "kiq/examples/jobs.hpp"
#include "kiq/instrumentation/trace_tree.hpp"
#include "kiq/otel/sdk/configure.hpp"
#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/server.hpp"
#include "kiq/store/memory.hpp"

namespace kiq::demo {
namespace {

using examples::PaymentGateway;
using namespace std::chrono_literals;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string otlp_endpoint() {
  std::string traces = env_or_empty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  return traces.empty() ? env_or_empty("OTEL_EXPORTER_OTLP_ENDPOINT") : traces;
}

// Scripted data: payment method 2 fails once (temporary), method 3 is declined (permanent);
// users 3, 6 and 9 of the sync batch fail; schedule 1 was due 7.5 minutes before it runs.
void script_world(examples::FakeWorld& world, double schedule_due) {
  world.gateway.script(2, {PaymentGateway::Outcome::kTemporary});
  world.gateway.script(3, {PaymentGateway::Outcome::kPermanent});
  world.sync_api.fail_for({3, 6, 9});
  world.schedules.add({1, 1, "daily", schedule_due, schedule_due + 86400, {1, 2}});
}

// One fake web request: a SERVER root span that enqueues jobs while current.
template <class F>
void web_request(otel::Tracer& tracer, const char* method, const char* route, F&& enqueue) {
  otel::StartSpanOptions start;
  start.kind = otel::SpanKind::kServer;
  start.parent = otel::kRoot;
  start.attributes = {{"http.request.method", std::string(method)}, {"http.route", std::string(route)},
                      {"http.response.status_code", std::int64_t{202}}};
  tracer.in_span(fmt::format("{} {}", method, route), std::move(start), [&] { enqueue(); });
}

void enqueue_scenarios(Client& client, otel::Tracer& web, double time_scale) {
  using namespace examples;
  web_request(web, "POST", "/signup", [&] {
    client.perform_async(kUserNotificationJob, Json::array({1, "welcome"}));
  });
  web_request(web, "POST", "/orders/101/pay", [&] {
    client.perform_async(kPaymentProcessorJob, Json::array({101, 2}));  // temporary failure, retried
  });
  web_request(web, "POST", "/orders/102/pay", [&] {
    client.perform_async(kPaymentProcessorJob, Json::array({102, 3}));  // declined
  });
  web_request(web, "POST", "/reports", [&] {
    client.perform_async(kReportGeneratorJob, Json::array({1, "2026-11-01..2026-11-24"}));
  });
  web_request(web, "POST", "/report_schedules/1/run", [&] {
    client.perform_in(60 * time_scale, kScheduledReportJob, Json::array({1}));  // "in 1 minute"
  });
  web_request(web, "POST", "/admin/user_sync", [&] {
    client.perform_async(kUserSyncJob, Json::array({Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})}));
  });
}

// Job executions the scenarios lead to (Sidekiq counts failed attempts as processed too):
// notification 1, payment 101 twice (fails, then its retry), payment 102 1 + the customer
// notification 1, report generator 1 + 3 sections + combine 1, scheduled report 1 + 2
// deliveries, user sync 1.
constexpr std::int64_t kExpectedRuns = 1 + 2 + 1 + 1 + 1 + 3 + 1 + 1 + 2 + 1;

// Waits until every expected execution happened and nothing is queued, scheduled, retrying or
// running. (The count matters: a job between the poller's pop and its push is in no set.)
bool wait_for_jobs(Server& server, Store& store, double timeout_seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    server.poll_now();
    if (server.stats().processed >= kExpectedRuns && server.wait_until_idle(200ms)) {
      StoreStats s = store.stats(epoch_now());
      if (s.enqueued == 0 && s.retry_size == 0 && s.scheduled_size == 0 && server.stats().busy == 0)
        return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool use_color(const DemoOptions& options, std::ostream& out) {
  if (options.color) return *options.color;
  if (!env_or_empty("NO_COLOR").empty()) return false;
  // The CLI writes to std::cout; anything else (tests' string streams) is not a terminal.
  return &out == &std::cout && isatty(fileno(stdout));
}

}  // namespace

int run(const DemoOptions& options, std::ostream& out, std::ostream& err) {
  if (!(options.time_scale > 0) || options.time_scale > 1) {
    err << "kiq demo: --time-scale must be in (0, 1]\n";
    return 2;
  }
  // Tracing: in-memory (to print) + OTLP when an endpoint is configured.
  auto memory = std::make_shared<otel::sdk::InMemorySpanExporter>();
  otel::sdk::ConfigureOptions co;
  if (env_or_empty("OTEL_SERVICE_NAME").empty()) co.service_name = "kiq-demo";
  const std::string endpoint = otlp_endpoint();
  co.traces_exporter = endpoint.empty() ? "none" : "otlp";
  co.extra_processors = {tracing::make_job_attributes_processor(
      std::make_shared<otel::sdk::SimpleSpanProcessor>(memory))};
  otel::sdk::TracingGuard guard = otel::sdk::configure(std::move(co));
  if (!guard.enabled()) {
    err << "kiq demo: tracing is disabled (OTEL_SDK_DISABLED=true): nothing to show\n";
    return 1;
  }

  const double now = epoch_now();
  JobRegistry registry;
  auto world = examples::FakeWorld::seeded(now);
  script_world(*world, now - 450);
  examples::register_all(registry, world);

  tracing::TracingOptions to;
  to.propagation_style = options.propagation;
  ServerOptions so;
  so.concurrency = options.concurrency;
  so.queues = {{"payments", 0}, {"reports", 0}, {"default", 0}, {"sync", 0}};
  so.time_scale = options.time_scale;
  so.poll_interval_average = 100ms;
  so.initial_poll_delay = 50ms;
  so.fetch_timeout = 100ms;
  so.timeout = 5000ms;
  so.logger = make_null_logger("kiq-demo");
  so.log_jobs = false;
  tracing::install(so, to);

  std::shared_ptr<Store> store = std::make_shared<MemoryStore>();
  out << fmt::format(
      "kiq demo: the tutorial's jobs on the embedded store, {} workers, propagation '{}'\n"
      "          retry backoff and scheduled delays are scaled by {} (--time-scale): a 15 s retry "
      "waits {:.2f} s,\n"
      "          a report scheduled \"in 1 minute\" runs after {:.1f} s\n",
      options.concurrency, tracing::to_string(options.propagation), options.time_scale,
      15 * options.time_scale, 60 * options.time_scale);
  if (!endpoint.empty()) out << fmt::format("          spans also go to OTLP at {}\n", endpoint);
  out << '\n';

  bool finished = false;
  ServerStats stats;
  {
    Server server(so, registry, store);
    Client client(store, tracing::client_chain(to), &registry);  // per-job queues and retry
    auto web = guard.api_provider()->get_tracer("kiq-demo.web");
    server.start();
    enqueue_scenarios(client, *web, options.time_scale);
    finished = wait_for_jobs(server, *store, options.timeout_seconds);
    server.stop();
    stats = server.stats();
  }
  guard.force_flush(5s);

  tracing::TreeOptions tree;
  tree.color = use_color(options, out);
  tree.all_attributes = options.all_attributes;
  auto spans = memory->finished_spans();
  out << tracing::render_traces(spans, tree);
  out << fmt::format("{} spans; jobs processed {}, failed {} (retried {}, dead {})\n", spans.size(),
                     stats.processed, stats.failed, stats.retried, stats.dead);
  guard.shutdown(10s);
  if (!finished) {
    err << fmt::format("kiq demo: jobs still pending after {} s\n", options.timeout_seconds);
    return 1;
  }
  return 0;
}

}  // namespace kiq::demo
