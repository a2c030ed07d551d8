// OTEL_EXPORTER_OTLP_* parsing, endpoint joining, header decoding, retry helpers, gzip.
#include <gtest/gtest.h>

#include <map>

#include "otel/otlp/env_options.hpp"
#include "otel/otlp/gzip.hpp"
#include "otel/otlp/retry.hpp"

namespace kiq::otel::otlp {
namespace {

using sdk::OtlpCompression;
using sdk::OtlpProtocol;

EnvGetter fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(OtlpEndpoint, JoinsWithExactlyOneSlash) {
  EXPECT_EQ(join_endpoint("http://c:4318"), "http://c:4318/v1/traces");
  EXPECT_EQ(join_endpoint("http://c:4318/"), "http://c:4318/v1/traces");
  EXPECT_EQ(join_endpoint("http://c:4318/mycollector/"), "http://c:4318/mycollector/v1/traces");
  EXPECT_EQ(join_endpoint("http://c:4318/mycollector"), "http://c:4318/mycollector/v1/traces");
  EXPECT_EQ(join_endpoint("http://c:4318//", "/v1/traces"), "http://c:4318/v1/traces");
}

TEST(OtlpEnv, DefaultsWhenNothingIsSet) {
  auto o = options_from_env(fake_env({}));
  EXPECT_EQ(o.endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(o.protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_EQ(o.compression, OtlpCompression::kNone);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(10000));
  EXPECT_TRUE(o.headers.empty());
}

TEST(OtlpEnv, GenericEndpointGetsSignalPath) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/mycollector/"}}));
  EXPECT_EQ(o.endpoint, "http://c:4318/mycollector/v1/traces");
}

TEST(OtlpEnv, TracesEndpointIsUsedAsIsAndWins) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom"}}));
  EXPECT_EQ(o.endpoint, "http://t:9/custom");
}

TEST(OtlpEnv, EmptyValueMeansUnset) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""},
                                      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://g:1"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", ""},
                                      {"OTEL_EXPORTER_OTLP_TIMEOUT", "250"}}));
  EXPECT_EQ(o.endpoint, "http://g:1/v1/traces");
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(250));
}

TEST(OtlpEnv, HeadersArePercentDecodedAndSignalSpecificWins) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_HEADERS", "generic=1"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                                       " api-key = secret%20value , x-tenant=a%2Cb "}}));
  ASSERT_EQ(o.headers.size(), 2u);
  EXPECT_EQ(o.headers[0], (std::pair<std::string, std::string>{"api-key", "secret value"}));
  EXPECT_EQ(o.headers[1], (std::pair<std::string, std::string>{"x-tenant", "a,b"}));
  auto g = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_HEADERS", "generic=1"}}));
  ASSERT_EQ(g.headers.size(), 1u);
  EXPECT_EQ(g.headers[0].first, "generic");
}

TEST(OtlpEnv, MalformedHeaderMembersAreSkipped) {
  auto headers = parse_headers("ok=1,novalue,=empty,bad=%zz,crlf=a%0D%0Ab,,last=2");
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].first, "ok");
  EXPECT_EQ(headers[1].first, "last");
}

TEST(OtlpEnv, PercentDecode) {
  EXPECT_EQ(percent_decode("a%3Db%2c"), "a=b,");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("trunc%2"));
  EXPECT_FALSE(percent_decode("%g0"));
}

TEST(OtlpEnv, Timeout) {
  auto t = [](const char* v) {
    return options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", v}})).timeout.count();
  };
  EXPECT_EQ(t("2500"), 2500);
  EXPECT_EQ(t("0"), 0);          // no limit
  EXPECT_EQ(t("-5"), 10000);     // negative -> warn, default
  EXPECT_EQ(t("ten"), 10000);    // garbage -> warn, default
  EXPECT_EQ(t("10s"), 10000);
}

TEST(OtlpEnv, CompressionAndProtocol) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"},
                                      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}}));
  EXPECT_EQ(o.compression, OtlpCompression::kGzip);
  EXPECT_EQ(o.protocol, OtlpProtocol::kHttpJson);

  auto s = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"},
                                      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"}}));
  EXPECT_EQ(s.compression, OtlpCompression::kNone);
  EXPECT_EQ(s.protocol, OtlpProtocol::kHttpProtobuf);

  auto bad = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
                                        {"OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"}}));
  EXPECT_EQ(bad.compression, OtlpCompression::kNone);
  EXPECT_EQ(bad.protocol, OtlpProtocol::kHttpProtobuf);
}

TEST(OtlpEnv, GrpcFallsBackToHttpProtobufWithAWarning) {
  ::testing::internal::CaptureStderr();
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"}}),
                            [] { sdk::OtlpHttpExporterOptions d; d.protocol = OtlpProtocol::kHttpJson; return d; }());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(o.protocol, OtlpProtocol::kHttpProtobuf);
  EXPECT_NE(err.find("grpc"), std::string::npos) << err;
}

TEST(OtlpEnv, TlsFiles) {
  auto o = options_from_env(fake_env({{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"},
                                      {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/k.pem"}}));
  EXPECT_EQ(o.certificate_file, "/traces/ca.pem");
  EXPECT_EQ(o.client_certificate_file, "/c.pem");
  EXPECT_EQ(o.client_key_file, "/k.pem");
}

TEST(OtlpEnv, FromProcessEnvironment) {
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://from-env:1234/v1/traces", 1);
  auto o = sdk::OtlpHttpExporterOptions::from_env();
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  EXPECT_EQ(o.endpoint, "http://from-env:1234/v1/traces");
}

TEST(OtlpRetry, RetryableStatuses) {
  for (long s : {429L, 502L, 503L, 504L}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (long s : {200L, 400L, 401L, 404L, 408L, 413L, 500L, 501L}) {
    EXPECT_FALSE(is_retryable_status(s)) << s;
  }
}

TEST(OtlpRetry, RetryAfterDeltaSecondsAndHttpDate) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("1", now), std::chrono::milliseconds(1000));
  EXPECT_EQ(parse_retry_after(" 120 ", now), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-3", now));
  EXPECT_TRUE(parse_retry_after("99999999999999999999999", now) == std::nullopt ||
              parse_retry_after("99999999999999999999999", now)->count() > 0);
}

TEST(OtlpRetry, BackoffGrowsWithJitterAndIsCapped) {
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(backoff_delay(0, ms(100), ms(10000), 0.0), ms(50));
  EXPECT_EQ(backoff_delay(0, ms(100), ms(10000), 1.0), ms(100));
  EXPECT_EQ(backoff_delay(3, ms(100), ms(10000), 1.0), ms(800));
  EXPECT_EQ(backoff_delay(3, ms(100), ms(10000), 0.0), ms(400));
  EXPECT_EQ(backoff_delay(30, ms(100), ms(1000), 1.0), ms(1000));
  EXPECT_LE(backoff_delay(1000, ms(100), ms(1000), 0.5), ms(1000));
}

TEST(OtlpGzip, RoundTrip) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "span-" + std::to_string(i % 10) + ";";
  auto compressed = gzip_compress(data);
  ASSERT_TRUE(compressed);
  EXPECT_LT(compressed->size(), data.size());
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
  EXPECT_EQ(gzip_decompress(*compressed), data);
  EXPECT_FALSE(gzip_decompress("not gzip at all"));
  EXPECT_FALSE(gzip_decompress(compressed->substr(0, compressed->size() / 2)));
  EXPECT_EQ(gzip_decompress(*gzip_compress("")), "");
}

}  // namespace
}  // namespace kiq::otel::otlp
