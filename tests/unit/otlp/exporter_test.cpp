// OtlpHttpExporter against a local receiver owned by the test: success, retries, Retry-After,
// non-retryable errors, an absent receiver, gzip, headers, outage reporting, shutdown.
// No assertion is about elapsed time: retries are checked by counting attempts.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "google/rpc/status.pb.h"
#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "otel/otlp/encoding.hpp"
#include "support/free_port.hpp"
#include "unit/otlp/otlp_receiver.hpp"
#include "unit/otlp/sample_spans.hpp"

namespace kiq::otel::sdk {
namespace {

using namespace std::chrono_literals;
using testing::OtlpReceiver;
using testing::ScriptedResponse;
using Request = otlp::pb::collector::trace::v1::ExportTraceServiceRequest;

OtlpHttpExporterOptions options_for(const OtlpReceiver& receiver) {
  OtlpHttpExporterOptions o;
  o.endpoint = receiver.url();
  o.timeout = 20s;  // generous: only there to avoid hangs
  o.initial_backoff = 10ms;
  o.max_backoff = 50ms;
  return o;
}

int span_count(const std::string& body) {
  Request request;
  if (!request.ParseFromString(body)) return -1;
  int n = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  }
  return n;
}

TEST(OtlpHttpExporter, PostsProtobufWithOtlpHeaders) {
  OtlpReceiver receiver;
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(3);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/traces");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(requests[0].header("User-Agent"), otlp_user_agent());
  EXPECT_EQ(otlp_user_agent().rfind("OTel-OTLP-Exporter-Cpp-kiq/", 0), 0u);
  EXPECT_TRUE(requests[0].header("Content-Encoding").empty());
  EXPECT_EQ(span_count(requests[0].body), 3);

  auto stats = exporter.stats();
  EXPECT_EQ(stats.exports_succeeded, 1u);
  EXPECT_EQ(stats.spans_exported, 3u);
  EXPECT_EQ(stats.attempts, 1u);
  EXPECT_FALSE(stats.failing);
}

TEST(OtlpHttpExporter, PostsJsonWhenAsked) {
  OtlpReceiver receiver;
  auto options = options_for(receiver);
  options.protocol = OtlpProtocol::kHttpJson;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(2);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["resourceSpans"][0]["scopeSpans"][0]["spans"].size(), 2u);
  EXPECT_EQ(body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"],
            batch[0].context.trace_id().to_hex());
}

// A timeout of "forever" (a huge OTEL_EXPORTER_OTLP_TIMEOUT): the deadline saturates instead
// of overflowing (UBSan) into the past, which failed every export before its first attempt.
TEST(OtlpHttpExporter, ForeverTimeoutExportsAndShutsDown) {
  OtlpReceiver receiver;
  auto options = options_for(receiver);
  options.timeout = std::chrono::milliseconds::max();
  OtlpHttpExporter exporter(options);
  EXPECT_EQ(exporter.export_spans(testing::sample_batch(1)), ExportResult::kSuccess);
  EXPECT_EQ(receiver.request_count(), 1u);
  EXPECT_TRUE(exporter.shutdown(std::chrono::milliseconds::max()));
}

TEST(OtlpHttpExporter, EmptyBatchSendsNothing) {
  OtlpReceiver receiver;
  OtlpHttpExporter exporter(options_for(receiver));
  EXPECT_EQ(exporter.export_spans({}), ExportResult::kSuccess);
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST(OtlpHttpExporter, RetriesAfter503ThenSucceeds) {
  OtlpReceiver receiver;
  receiver.script({{503, "busy", "text/plain"}, {200}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(2);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);  // the same batch, re-sent
  auto stats = exporter.stats();
  EXPECT_EQ(stats.attempts, 2u);
  EXPECT_EQ(stats.retries, 1u);
  EXPECT_EQ(stats.exports_succeeded, 1u);
  EXPECT_EQ(stats.exports_failed, 0u);
}

TEST(OtlpHttpExporter, RetriesEveryRetryableStatus) {
  OtlpReceiver receiver;
  receiver.script({{429}, {502}, {503}, {504}, {200}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  EXPECT_EQ(receiver.request_count(), 5u);
}

TEST(OtlpHttpExporter, HonoursRetryAfter) {
  OtlpReceiver receiver;
  receiver.script({{429, "", "text/plain", {{"Retry-After", "1"}}}, {200}});
  auto options = options_for(receiver);
  // Without Retry-After the backoff (>= 30 s) would not fit in the 10 s timeout and the export
  // would fail after one attempt: success with 2 attempts proves the header was used.
  options.initial_backoff = 60s;
  options.max_backoff = 60s;
  options.timeout = 10s;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  EXPECT_EQ(receiver.request_count(), 2u);
  EXPECT_EQ(exporter.stats().retries, 1u);
}

TEST(OtlpHttpExporter, RetryAfterBeyondTheTimeoutFailsWithoutWaiting) {
  OtlpReceiver receiver;
  receiver.script({{503, "", "text/plain", {{"Retry-After", "3600"}}}});
  auto options = options_for(receiver);
  options.timeout = 5s;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  EXPECT_EQ(receiver.request_count(), 1u);
  EXPECT_NE(exporter.stats().last_error.find("503"), std::string::npos);
}

TEST(OtlpHttpExporter, BadRequestIsDroppedReportedAndNotRetried) {
  OtlpReceiver receiver;
  google::rpc::Status status;
  status.set_code(3);
  status.set_message("invalid span id length");
  receiver.script({{400, status.SerializeAsString(), "application/x-protobuf"}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(4);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(receiver.request_count(), 1u);
  auto stats = exporter.stats();
  EXPECT_EQ(stats.attempts, 1u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.exports_failed, 1u);
  EXPECT_EQ(stats.spans_dropped, 4u);
  EXPECT_TRUE(stats.failing);
  EXPECT_NE(stats.last_error.find("HTTP 400"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("invalid span id length"), std::string::npos) << stats.last_error;
  EXPECT_NE(err.find("HTTP 400"), std::string::npos) << err;
}

TEST(OtlpHttpExporter, OtherServerErrorsAreNotRetried) {
  for (int code : {401, 404, 413, 500}) {
    OtlpReceiver receiver;
    receiver.script({{code}});
    OtlpHttpExporter exporter(options_for(receiver));
    auto batch = testing::sample_batch(1);
    EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure) << code;
    EXPECT_EQ(receiver.request_count(), 1u) << code;
  }
}

TEST(OtlpHttpExporter, AbsentReceiverIsRetriedThenFails) {
  auto options = OtlpHttpExporterOptions{};
  options.endpoint = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/v1/traces";
  options.timeout = 20s;
  options.initial_backoff = 10ms;
  options.max_retries = 2;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(2);
  // Run on another thread so a hang shows up as a test failure instead of a stuck binary.
  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(batch); });
  ASSERT_EQ(result.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(result.get(), ExportResult::kFailure);
  auto stats = exporter.stats();
  EXPECT_EQ(stats.attempts, 3u);  // connection refused is retryable: 1 try + 2 retries
  EXPECT_EQ(stats.spans_dropped, 2u);
  EXPECT_TRUE(stats.failing);
}

TEST(OtlpHttpExporter, DuringAnOutageAnUnreachableCollectorIsNotRetried) {
  auto options = OtlpHttpExporterOptions{};
  options.endpoint = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/v1/traces";
  options.timeout = 20s;
  options.initial_backoff = 10ms;
  options.max_retries = 2;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);  // 3 attempts
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);  // 1 attempt
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);  // 1 attempt
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(exporter.stats().attempts, 5u);
}

TEST(OtlpHttpExporter, RetryableStatusesAreStillRetriedDuringAnOutage) {
  OtlpReceiver receiver;
  receiver.script({{400}, {503}, {200}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);  // 503 retried, then 200
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(receiver.request_count(), 3u);
}

TEST(OtlpHttpExporter, AbsentReceiverFailsWithinTheTimeout) {
  auto options = OtlpHttpExporterOptions{};
  options.endpoint = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/v1/traces";
  options.timeout = 1s;
  options.initial_backoff = 50ms;
  options.max_retries = 1000;  // only the timeout can end it
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(batch); });
  ASSERT_EQ(result.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(result.get(), ExportResult::kFailure);
  EXPECT_GE(exporter.stats().attempts, 1u);
}

TEST(OtlpHttpExporter, SlowCollectorIsCutOffByTheTimeout) {
  OtlpReceiver receiver;
  receiver.script({{200, "", "application/x-protobuf", {}, 2s}});
  auto options = options_for(receiver);
  options.timeout = 300ms;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(batch); });
  ASSERT_EQ(result.wait_for(60s), std::future_status::ready);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(result.get(), ExportResult::kFailure);
  EXPECT_EQ(receiver.request_count(), 1u);
  EXPECT_NE(exporter.stats().last_error.find("imeout"), std::string::npos)
      << exporter.stats().last_error;
}

TEST(OtlpHttpExporter, OutageIsReportedOnceAndRecoveryOnce) {
  OtlpReceiver receiver;
  receiver.script({{400}, {400}, {400}, {200}, {200}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  std::string err = ::testing::internal::GetCapturedStderr();
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = err.find(needle); pos != std::string::npos; pos = err.find(needle, pos + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("export failing"), 1u) << err;
  EXPECT_EQ(count("recovered"), 1u) << err;
  EXPECT_FALSE(exporter.stats().failing);
  EXPECT_EQ(exporter.stats().exports_failed, 3u);
}

TEST(OtlpHttpExporter, GzipBodyIsCompressedProtobuf) {
  OtlpReceiver receiver;
  auto options = options_for(receiver);
  options.compression = OtlpCompression::kGzip;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(50);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Content-Encoding"), "gzip");
  // The receiver inflated the body; what travelled was smaller and decodes to the batch.
  EXPECT_EQ(span_count(requests[0].body), 50);
  EXPECT_EQ(requests[0].body, otlp::encode_protobuf(batch));
  EXPECT_LT(requests[0].content_length, requests[0].body.size());
}

TEST(OtlpHttpExporter, CustomHeadersArrive) {
  OtlpReceiver receiver;
  auto options = options_for(receiver);
  options.headers = {{"api-key", "s3cret"}, {"X-Tenant", "acme"}};
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("api-key"), "s3cret");
  EXPECT_EQ(requests[0].header("X-Tenant"), "acme");
}

TEST(OtlpHttpExporter, HeadersThatCouldInjectAreDropped) {
  OtlpReceiver receiver;
  auto options = options_for(receiver);
  options.headers = {{"x-ok", "1"}, {"x-bad", "a\r\nInjected: yes"}, {"", "empty"}};
  ::testing::internal::CaptureStderr();
  OtlpHttpExporter exporter(options);
  std::string err = ::testing::internal::GetCapturedStderr();
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("x-ok"), "1");
  EXPECT_TRUE(requests[0].header("x-bad").empty());
  EXPECT_TRUE(requests[0].header("Injected").empty());
  EXPECT_NE(err.find("x-bad"), std::string::npos) << err;
}

TEST(OtlpHttpExporter, PartialSuccessIsCountedNotRetried) {
  OtlpReceiver receiver;
  otlp::pb::collector::trace::v1::ExportTraceServiceResponse response;
  response.mutable_partial_success()->set_rejected_spans(2);
  response.mutable_partial_success()->set_error_message("spans too old");
  receiver.script({{200, response.SerializeAsString(), "application/x-protobuf"}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(5);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(receiver.request_count(), 1u);
  EXPECT_EQ(exporter.stats().spans_rejected, 2u);
  EXPECT_NE(err.find("spans too old"), std::string::npos) << err;
}

TEST(OtlpHttpExporter, JsonPartialSuccessIsParsed) {
  OtlpReceiver receiver;
  receiver.script({{200, R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"x"}})",
                    "application/json"}});
  auto options = options_for(receiver);
  options.protocol = OtlpProtocol::kHttpJson;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(3);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(exporter.stats().spans_rejected, 1u);
}

TEST(OtlpHttpExporter, OversizedResponseIsANonRetryableError) {
  OtlpReceiver receiver;
  receiver.script({{200, std::string(5u << 20, 'x'), "application/x-protobuf"}});
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(receiver.request_count(), 1u);
  EXPECT_NE(exporter.stats().last_error.find("4 MiB"), std::string::npos) << exporter.stats().last_error;
}

TEST(OtlpHttpExporter, AfterShutdownExportFailsAtOnce) {
  OtlpReceiver receiver;
  OtlpHttpExporter exporter(options_for(receiver));
  EXPECT_TRUE(exporter.shutdown());
  auto batch = testing::sample_batch(1);
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST(OtlpHttpExporter, ShutdownInterruptsARetryWait) {
  OtlpReceiver receiver;
  receiver.script({{503, "", "text/plain", {{"Retry-After", "20"}}}});
  auto options = options_for(receiver);
  options.timeout = 60s;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(batch); });
  while (receiver.request_count() == 0) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(exporter.shutdown(30s));
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(result.get(), ExportResult::kFailure);
  EXPECT_EQ(receiver.request_count(), 1u);
}

TEST(OtlpHttpExporter, MalformedEndpointFailsCleanly) {
  OtlpHttpExporterOptions options;
  options.endpoint = "not a url";
  options.timeout = 2s;
  OtlpHttpExporter exporter(options);
  auto batch = testing::sample_batch(1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(exporter.export_spans(batch), ExportResult::kFailure);
  ::testing::internal::GetCapturedStderr();
}

TEST(OtlpHttpExporter, KeepsTheConnectionAlive) {
  OtlpReceiver receiver;
  OtlpHttpExporter exporter(options_for(receiver));
  auto batch = testing::sample_batch(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(exporter.export_spans(batch), ExportResult::kSuccess);
  EXPECT_EQ(receiver.request_count(), 3u);
  EXPECT_EQ(exporter.stats().connections_opened, 1u);  // one connection, reused
}

// The exporter encodes into a buffer it keeps: a smaller batch after a bigger one must not
// carry bytes of the previous body, with and without gzip.
TEST(OtlpHttpExporter, EachBodyIsExactlyItsBatchWhenTheBufferIsReused) {
  for (auto compression : {OtlpCompression::kNone, OtlpCompression::kGzip}) {
    OtlpReceiver receiver;
    auto options = options_for(receiver);
    options.compression = compression;
    OtlpHttpExporter exporter(options);
    const std::vector<std::size_t> sizes = {200, 3, 60, 1, 200};
    for (std::size_t n : sizes) {
      EXPECT_EQ(exporter.export_spans(testing::sample_batch(n)), ExportResult::kSuccess);
    }
    auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_EQ(requests[i].body, otlp::encode_protobuf(testing::sample_batch(sizes[i]))) << i;
      if (compression == OtlpCompression::kNone) {
        EXPECT_EQ(requests[i].content_length, requests[i].body.size());
      }
    }
  }
}

}  // namespace
}  // namespace kiq::otel::sdk

namespace kiq::otel::sdk {
namespace {

using namespace std::chrono_literals;
using testing::OtlpReceiver;

// The batch processor's serialized path: spans serialized by the exporter's own serializer
// arrive as the request export_spans() would have sent (gzip applies the same way).
TEST(OtlpHttpExporter, SerializedSpansArriveAsTheSameRequest) {
  for (auto compression : {OtlpCompression::kNone, OtlpCompression::kGzip}) {
    OtlpReceiver receiver;
    OtlpHttpExporterOptions options;
    options.endpoint = receiver.url();
    options.timeout = 20s;
    options.compression = compression;
    OtlpHttpExporter exporter(options);
    auto serializer = exporter.serializer();
    ASSERT_NE(serializer, nullptr);
    auto batch = testing::sample_batch(5);
    std::string bytes;
    std::string scratch;
    for (const auto& span : batch) bytes.append(serializer->serialize(span, scratch));
    const SerializedSpans part{batch[0].resource, batch[0].scope, bytes, batch.size()};
    EXPECT_EQ(exporter.export_serialized({&part, 1}), ExportResult::kSuccess);
    EXPECT_EQ(exporter.export_serialized({}), ExportResult::kSuccess);  // nothing sent
    auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].body, otlp::encode_protobuf(batch));
    EXPECT_EQ(exporter.stats().spans_exported, 5u);
  }
}

TEST(OtlpHttpExporter, JsonHasNoSerializer) {
  OtlpHttpExporterOptions options;
  options.protocol = OtlpProtocol::kHttpJson;
  OtlpHttpExporter exporter(options);
  EXPECT_EQ(exporter.serializer(), nullptr);
}

}  // namespace
}  // namespace kiq::otel::sdk
