// Tracing interop:
//  * Ruby Sidekiq 6.4.1 pushes a job carrying a traceparent where the Ruby OpenTelemetry gem
//    writes it (top-level key of the job hash); kiq processes it into a consumer span that links
//    to (link) or continues (child) that trace.
//  * kiq enqueues a job on Redis; Ruby reads the job back and finds kiq's traceparent.
//  * `kiq demo` with an OTLP endpoint: the requests decode with the official definitions and
//    form the expected trees (demo_trees.mjs).
// Skipped when ruby/sidekiq/redis-server or node are missing, unless KIQ_REQUIRE_INTEROP is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kiq/client.hpp"
#include "kiq/demo.hpp"
#include "kiq/otel/propagation.hpp"
#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "kiq/server.hpp"
#include "kiq/store/redis.hpp"
#include "kiq/tracing.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "unit/otlp/otlp_receiver.hpp"

namespace kiq {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using otel::SpanKind;
using otel::sdk::SpanData;
using testing::ChildOptions;
using testing::ChildProcess;

constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kSpanId = "00f067aa0ba902b7";
constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool interop_required() { return std::getenv("KIQ_REQUIRE_INTEROP") != nullptr; }

fs::path source_dir() {
  if (const char* s = std::getenv("KIQ_SOURCE_DIR")) return s;
  return KIQ_TEST_SOURCE_DIR;
}

bool succeeds(const std::string& program, const std::vector<std::string>& args) {
  try {
    ChildOptions quiet;
    quiet.stdout_path = "/dev/null";
    quiet.stderr_path = "/dev/null";
    auto child = ChildProcess::spawn(program, args, quiet);
    auto status = child.wait_for(60s);
    return status && status->success();
  } catch (const std::exception&) {
    return false;
  }
}

bool ruby_sidekiq_available() {
  static const bool available = testing::redis_server_available() &&
                                succeeds("ruby", {"-e", "require 'sidekiq'; require 'sidekiq/api'"});
  return available;
}

#define REQUIRE_RUBY()                                                                    \
  do {                                                                                    \
    if (!ruby_sidekiq_available()) {                                                      \
      if (interop_required()) FAIL() << "ruby/sidekiq/redis-server missing (KIQ_REQUIRE_INTEROP)"; \
      GTEST_SKIP() << "ruby, the sidekiq gem or redis-server not installed";              \
    }                                                                                     \
  } while (0)

// Runs tracing_tool.rb against `redis` and parses its JSON output.
Json ruby_tool(const testing::RedisServer& redis, const testing::TempDir& dir,
               const std::vector<std::string>& args) {
  std::vector<std::string> argv{(source_dir() / "tests/interop/tracing/tracing_tool.rb").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildOptions options;
  options.env = {"REDIS_URL=" + redis.url()};
  options.stdout_path = dir.file("ruby.out");
  options.stderr_path = dir.file("ruby.err");
  auto child = ChildProcess::spawn("ruby", argv, options);
  auto status = child.wait_for(60s);
  if (!status || !status->success()) {
    ADD_FAILURE() << "ruby tracing_tool.rb " << args.at(0) << " failed: " << testing::read_file(dir.file("ruby.err"));
    return Json();
  }
  return Json::parse(testing::read_file(dir.file("ruby.out")));
}

struct TracedRedisServer {
  TracedRedisServer(const std::string& url, tracing::PropagationStyle style) {
    otel::sdk::TracerProviderOptions po;
    po.processors = {std::make_shared<otel::sdk::SimpleSpanProcessor>(exporter)};
    provider = std::make_shared<otel::sdk::TracerProvider>(std::move(po));
    options.tracer_provider = provider;
    options.propagation_style = style;
    options.semconv = tracing::SemconvMode::kOld;
    registry.add("NoopJob", [this](JobContext&, const Json&) {
      if (auto v = otel::current_context().baggage().get("user")) {
        std::lock_guard lock(mu);
        baggage_user = *v;
      }
    });
    ServerOptions so;
    so.concurrency = 2;
    so.fetch_timeout = 100ms;
    so.timeout = 2000ms;
    so.logger = make_null_logger("tracing-interop");
    so.log_jobs = false;
    tracing::install(so, options);
    store = make_redis_store(url);
    server = std::make_unique<Server>(so, registry, store);
  }
  ~TracedRedisServer() {
    if (server) server->stop();
  }

  std::optional<SpanData> wait_for_consumer() {
    auto deadline = std::chrono::steady_clock::now() + 30s;  // generous: only avoids hangs
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& s : exporter->finished_spans())
        if (s.kind == SpanKind::kConsumer) return s;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  std::shared_ptr<otel::sdk::InMemorySpanExporter> exporter = std::make_shared<otel::sdk::InMemorySpanExporter>();
  std::shared_ptr<otel::sdk::TracerProvider> provider;
  tracing::TracingOptions options;
  JobRegistry registry;
  std::mutex mu;
  std::string baggage_user;
  std::shared_ptr<Store> store;
  std::unique_ptr<Server> server;
};

class RubyToKiq : public ::testing::TestWithParam<tracing::PropagationStyle> {};

TEST_P(RubyToKiq, RubyTraceparentContinuesInKiqsConsumerSpan) {
  REQUIRE_RUBY();
  testing::RedisServer redis;
  testing::TempDir dir;
  Json jid = ruby_tool(redis, dir, {"push_traced", "default", "NoopJob", kTraceparent,
                                    "rojo=00f067aa0ba902b7", "user=alice"});
  ASSERT_TRUE(jid.is_string()) << jid.dump();

  TracedRedisServer kiq(redis.url(), GetParam());
  kiq.server->start();
  auto consumer = kiq.wait_for_consumer();
  ASSERT_TRUE(consumer) << "kiq produced no consumer span";
  EXPECT_EQ(consumer->name, "default process");
  if (GetParam() == tracing::PropagationStyle::kLink) {
    EXPECT_NE(consumer->context.trace_id().to_hex(), kTraceId);
    ASSERT_EQ(consumer->links.size(), 1u);
    EXPECT_EQ(consumer->links[0].context.trace_id().to_hex(), kTraceId);
    EXPECT_EQ(consumer->links[0].context.span_id().to_hex(), kSpanId);
    EXPECT_TRUE(consumer->links[0].context.is_remote());
  } else {
    EXPECT_EQ(consumer->context.trace_id().to_hex(), kTraceId);
    EXPECT_EQ(consumer->parent_span_id.to_hex(), kSpanId);
    EXPECT_TRUE(consumer->parent_is_remote);
    EXPECT_EQ(consumer->context.trace_state().to_header(), "rojo=00f067aa0ba902b7");
  }
  for (const auto& a : consumer->attributes)
    if (a.key == "messaging.message_id") EXPECT_EQ(std::get<std::string>(a.value), jid.get<std::string>());
  kiq.server->stop();
  std::lock_guard lock(kiq.mu);
  EXPECT_EQ(kiq.baggage_user, "alice");
}

INSTANTIATE_TEST_SUITE_P(Styles, RubyToKiq,
                         ::testing::Values(tracing::PropagationStyle::kLink, tracing::PropagationStyle::kChild),
                         [](const auto& info) { return std::string(tracing::to_string(info.param)); });

TEST(KiqToRuby, KiqEnqueuedTraceparentIsReadBackByRuby) {
  REQUIRE_RUBY();
  testing::RedisServer redis;
  testing::TempDir dir;
  TracedRedisServer kiq(redis.url(), tracing::PropagationStyle::kLink);  // server not started
  Client client(kiq.store, tracing::client_chain(kiq.options));
  auto tracer = kiq.provider->get_tracer("app");
  std::optional<std::string> jid;
  tracer->in_span("POST /checkout", [&] {
    otel::Scope bag(otel::current_context().with_baggage(otel::Baggage().set("tenant", "acme")));
    jid = client.perform_async("RubyJob", Json::array({1}));
  });
  ASSERT_TRUE(jid);
  const SpanData* publish = nullptr;
  auto spans = kiq.exporter->finished_spans();
  for (const auto& s : spans)
    if (s.kind == SpanKind::kProducer) publish = &s;
  ASSERT_TRUE(publish);

  Json item = ruby_tool(redis, dir, {"first", "default"});
  ASSERT_TRUE(item.is_object()) << item.dump();
  EXPECT_EQ(item["jid"], *jid);
  EXPECT_EQ(item["class"], "RubyJob");
  EXPECT_EQ(item["traceparent"], otel::TraceContextPropagator::format_traceparent(publish->context));
  EXPECT_EQ(item["_ruby_parsed"]["version"], "00");
  EXPECT_EQ(item["_ruby_parsed"]["trace_id"], publish->context.trace_id().to_hex());
  EXPECT_EQ(item["_ruby_parsed"]["span_id"], publish->context.span_id().to_hex());
  EXPECT_EQ(item["_ruby_parsed"]["flags"], "01");
  EXPECT_EQ(item["baggage"], "tenant=acme");
  EXPECT_FALSE(item.contains("tracestate"));
}

TEST(DemoOtlp, OfficialDefinitionsDecodeTheDemoIntoTheExpectedTrees) {
  fs::path script = source_dir() / "tests/interop/tracing/demo_trees.mjs";
  fs::path modules = source_dir() / "tests/interop/node/node_modules/@opentelemetry/otlp-transformer";
  if (!succeeds("node", {"--version"}) || !fs::exists(modules)) {
    if (interop_required()) FAIL() << "node or " << modules << " missing (KIQ_REQUIRE_INTEROP set)";
    GTEST_SKIP() << "node or npm modules missing; run scripts/setup";
  }
  testing::OtlpReceiver receiver;
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url().c_str(), 1);
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", 1);
  ::unsetenv("OTEL_SERVICE_NAME");
  std::ostringstream out, err;
  demo::DemoOptions options;
  options.timeout_seconds = 60;
  int code = demo::run(options, out, err);
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  ASSERT_EQ(code, 0) << err.str();
  EXPECT_NE(out.str().find("spans also go to OTLP at " + receiver.url()), std::string::npos) << out.str();

  auto requests = receiver.requests();
  ASSERT_FALSE(requests.empty()) << "the demo sent nothing over OTLP";
  testing::TempDir dir;
  std::vector<std::string> args{script.string()};
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].header("Content-Type"), "application/x-protobuf");
    std::string path = dir.file("request" + std::to_string(i) + ".pb");
    std::ofstream(path, std::ios::binary) << requests[i].body;
    args.push_back(path);
  }
  ChildOptions child_options;
  child_options.stdout_path = dir.file("node.log");
  child_options.stderr_path = child_options.stdout_path;
  auto node = ChildProcess::spawn("node", args, child_options);
  auto status = node.wait_for(120s);
  ASSERT_TRUE(status) << "demo_trees.mjs did not finish";
  std::string log = testing::read_file(child_options.stdout_path);
  EXPECT_TRUE(status->success()) << status->describe() << "\n" << log;
  std::cout << log;
}

}  // namespace
}  // namespace kiq
