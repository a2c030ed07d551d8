// `kiq enqueue` with tracing configured by the OTEL_* environment: one PRODUCER span per pushed
// job, exported over OTLP/HTTP (to a receiver owned by the test) before the command returns,
// and each job hash carrying its span's traceparent. Without the environment: no spans, no
// traceparent (push_bulk's fast path). A collector that is not taking spans holds neither
// `kiq enqueue` nor a stopping `kiq server` beyond their grace.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/cli/kiq_process.hpp"
#include "kiq/kiq.hpp"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "unit/otlp/otlp_receiver.hpp"

namespace kiq {
namespace {

namespace pb = ::opentelemetry::proto;
using testing::lines;
using testing::run_cli;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void set(const char* name, const std::string& value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::map<std::string, pb::common::v1::AnyValue> attributes_of(const pb::trace::v1::Span& span) {
  std::map<std::string, pb::common::v1::AnyValue> out;
  for (const auto& kv : span.attributes()) out[kv.key()] = kv.value();
  return out;
}

struct Exported {
  std::vector<pb::trace::v1::Span> spans;
  std::vector<std::string> service_names;  // one per ResourceSpans
  std::vector<std::string> scope_names;    // one per ScopeSpans
};

Exported decode_all(const std::vector<testing::CapturedRequest>& requests) {
  Exported out;
  for (const auto& request : requests) {
    pb::collector::trace::v1::ExportTraceServiceRequest message;
    EXPECT_TRUE(message.ParseFromString(request.body));
    for (const auto& rs : message.resource_spans()) {
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name") out.service_names.push_back(kv.value().string_value());
      }
      for (const auto& ss : rs.scope_spans()) {
        out.scope_names.push_back(ss.scope().name());
        for (const auto& span : ss.spans()) out.spans.push_back(span);
      }
    }
  }
  return out;
}

class CliEnqueueTracing : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
    redis_ = std::make_unique<testing::RedisServer>();
    for (const char* name : {"REDIS_URL", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                             "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
                             "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
                             "OTEL_TRACES_SAMPLER", "OTEL_PROPAGATORS",
                             "OTEL_SEMCONV_STABILITY_OPT_IN", "OTEL_BSP_MAX_QUEUE_SIZE",
                             "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_EXPORTER_OTLP_TIMEOUT",
                             "OTEL_BSP_SCHEDULE_DELAY"}) {
      env_.unset(name);
    }
  }
  testing::CliResult kiq(std::vector<std::string> args) {
    args.push_back("--redis");
    args.push_back(redis_->url());
    return run_cli(args);
  }
  Json queued_job(const std::string& queue, int index) {
    return Json::parse(redis_->command({"LINDEX", "queue:" + queue, std::to_string(index)}));
  }

  ScopedEnv env_;
  std::unique_ptr<testing::RedisServer> redis_;
};

TEST_F(CliEnqueueTracing, OneProducerSpanPerJobAndTheContextInEachJob) {
  testing::OtlpReceiver receiver;
  env_.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(receiver.port()));

  auto bulk = kiq({"enqueue", "NoopJob", "[7]", "--count", "3", "--queue", "traced"});
  ASSERT_EQ(bulk.code, 0) << bulk.err;
  auto single = kiq({"enqueue", "NoopJob", "[8]", "--queue", "traced"});
  ASSERT_EQ(single.code, 0) << single.err;
  std::vector<std::string> jids = lines(bulk.out);
  ASSERT_EQ(jids.size(), 3u);
  jids.push_back(lines(single.out).at(0));

  // The command returned: its spans were flushed already.
  const auto requests = receiver.requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& request : requests) {
    EXPECT_EQ(request.path, "/v1/traces");
    EXPECT_EQ(request.header("Content-Type"), "application/x-protobuf");
  }
  Exported exported = decode_all(requests);
  ASSERT_EQ(exported.spans.size(), 4u);
  for (const auto& name : exported.service_names) EXPECT_EQ(name, "kiq");
  for (const auto& name : exported.scope_names) EXPECT_EQ(name, "kiq.instrumentation.sidekiq");

  std::map<std::string, pb::trace::v1::Span> by_jid;
  for (const auto& span : exported.spans) {
    EXPECT_EQ(span.kind(), pb::trace::v1::Span::SPAN_KIND_PRODUCER);
    EXPECT_EQ(span.name(), "traced publish");
    EXPECT_TRUE(span.parent_span_id().empty());  // nothing was current: each job a new trace
    auto attributes = attributes_of(span);
    EXPECT_EQ(attributes["messaging.system"].string_value(), "sidekiq");
    EXPECT_EQ(attributes["messaging.destination"].string_value(), "traced");
    EXPECT_EQ(attributes["messaging.destination_kind"].string_value(), "queue");
    EXPECT_EQ(attributes["messaging.sidekiq.job_class"].string_value(), "NoopJob");
    EXPECT_EQ(attributes["sidekiq.job.queue"].string_value(), "traced");
    const std::string jid = attributes["messaging.message_id"].string_value();
    EXPECT_EQ(attributes["sidekiq.job.jid"].string_value(), jid);
    by_jid[jid] = span;
  }
  ASSERT_EQ(by_jid.size(), 4u);

  for (int i = 0; i < 4; ++i) {
    Json job = queued_job("traced", i);
    const std::string jid = job["jid"].get<std::string>();
    ASSERT_TRUE(by_jid.count(jid)) << "no span for job " << jid;
    const auto& span = by_jid[jid];
    ASSERT_TRUE(job.contains("traceparent")) << job.dump();
    EXPECT_EQ(job["traceparent"],
              "00-" + hex(span.trace_id()) + "-" + hex(span.span_id()) + "-01");
    EXPECT_EQ(job["class"], "NoopJob");
    EXPECT_EQ(job["queue"], "traced");
  }
  for (const auto& jid : jids) EXPECT_TRUE(by_jid.count(jid)) << jid;
}

// A burst larger than the batch processor's queue: the command flushes as it pushes, so no
// span is dropped.
TEST_F(CliEnqueueTracing, BurstLargerThanTheQueueLosesNoSpan) {
  testing::OtlpReceiver receiver;
  env_.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(receiver.port()));
  env_.set("OTEL_BSP_MAX_QUEUE_SIZE", "64");
  auto r = kiq({"enqueue", "NoopJob", "[]", "--count", "1500", "--queue", "burst"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1500u);
  Exported exported = decode_all(receiver.requests());
  EXPECT_EQ(exported.spans.size(), 1500u);
  std::set<std::string> jids;
  for (const auto& span : exported.spans) {
    jids.insert(attributes_of(span)["messaging.message_id"].string_value());
  }
  EXPECT_EQ(jids.size(), 1500u);
  EXPECT_EQ(redis_->command({"LLEN", "queue:burst"}), "1500");
}

// A collector that keeps asking to retry much later (as one that is down keeps the exporter
// retrying): the command still ends, its job pushed, once its spans have had their grace
// (kTracingExitGrace, 3 s) instead of the SDK's default shutdown timeout (30 s).
TEST_F(CliEnqueueTracing, ACollectorThatIsNotTakingSpansDoesNotHoldTheCommand) {
  testing::OtlpReceiver receiver;
  receiver.script({{503, "", "text/plain", {{"Retry-After", "600"}}}});
  env_.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(receiver.port()));
  env_.set("OTEL_EXPORTER_OTLP_TIMEOUT", "3600000");  // the exporter alone would wait 10 minutes
  std::promise<testing::CliResult> result;
  std::future<testing::CliResult> done = result.get_future();
  // Detached, with its own copies: a command that does hang must not outlive what it uses.
  std::thread([args = std::vector<std::string>{"enqueue", "NoopJob", "[]", "--queue", "stuck",
                                               "--redis", redis_->url()},
               promise = std::move(result)]() mutable { promise.set_value(run_cli(args)); })
      .detach();
  // Not a speed check: 20 s tells the 3 s grace from the 30 s default with a wide margin.
  ASSERT_EQ(done.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  testing::CliResult r = done.get();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1u);
  EXPECT_EQ(redis_->command({"LLEN", "queue:stuck"}), "1");
  EXPECT_EQ(receiver.request_count(), 1u);  // tried once, then the retry was abandoned
}

// The same for `kiq server`: stopped while its export waits to retry, it still exits (within
// -t plus the grace, as Sidekiq's stop fits the usual 30 s before SIGKILL).
TEST_F(CliEnqueueTracing, AServerStopsWhileItsCollectorIsNotTakingSpans) {
  testing::OtlpReceiver receiver;
  receiver.script(std::vector<testing::ScriptedResponse>(
      20, testing::ScriptedResponse{503, "", "text/plain", {{"Retry-After", "600"}}}));
  testing::TempDir dir("kiq-traced-server");
  const std::string log = dir.file("server.log");
  std::optional<testing::ChildProcess> server;
  {
    ScopedEnv traced;
    traced.set("OTEL_EXPORTER_OTLP_ENDPOINT",
               "http://127.0.0.1:" + std::to_string(receiver.port()));
    traced.set("OTEL_EXPORTER_OTLP_TIMEOUT", "3600000");
    traced.set("OTEL_BSP_SCHEDULE_DELAY", "50");
    server.emplace(testing::start_kiq_server(redis_->url(), {"-c", "2", "-t", "1"}, log));
  }
  ASSERT_EQ(kiq({"enqueue", "MarkJob", R"(["marks", 1])"}).code, 0);  // untraced push
  ASSERT_TRUE(testing::wait_until([&] { return redis_->command({"SCARD", "marks"}) == "1"; }));
  ASSERT_TRUE(testing::wait_until([&] { return receiver.request_count() >= 1; }));  // retrying
  server->signal(SIGTERM);
  // Not a speed check: 20 s tells -t 1 plus the 3 s grace from the 30 s default.
  auto status = server->wait_for(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value()) << "kiq server did not exit:\n" << testing::read_file(log);
  EXPECT_TRUE(status->success()) << status->describe();
}

TEST_F(CliEnqueueTracing, NothingWithoutTracingConfigured) {
  testing::OtlpReceiver receiver;  // nobody is told about it
  auto r = kiq({"enqueue", "NoopJob", "[]", "--count", "2", "--queue", "plain"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(receiver.request_count(), 0u);
  for (int i = 0; i < 2; ++i) {
    Json job = queued_job("plain", i);
    EXPECT_FALSE(job.contains("traceparent")) << job.dump();
  }
}

TEST_F(CliEnqueueTracing, SdkDisabledMakesNoSpans) {
  testing::OtlpReceiver receiver;
  env_.set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + std::to_string(receiver.port()));
  env_.set("OTEL_SDK_DISABLED", "true");
  auto r = kiq({"enqueue", "NoopJob", "[]", "--count", "2", "--queue", "off"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(receiver.request_count(), 0u);
  EXPECT_FALSE(queued_job("off", 0).contains("traceparent"));
}

}  // namespace
}  // namespace kiq
