// OTLP decoding (receiver side): round trips through both encodings and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "otel/otlp/encoding.hpp"
#include "unit/otlp/sample_spans.hpp"

namespace kiq::otel::sdk {
namespace {

using otlp::encode_json;
using otlp::encode_protobuf;

TEST(OtlpDecode, ProtobufRoundTripIsLossless) {
  auto spans = testing::rich_batch();
  std::string body = encode_protobuf(spans);
  std::string error;
  auto decoded = decode_otlp_protobuf(body, &error);
  ASSERT_TRUE(decoded) << error;
  ASSERT_EQ(decoded->size(), spans.size());
  EXPECT_EQ(encode_protobuf(*decoded), body);  // every field survived
  // Decoded order is the request's: grouped by resource, then scope.
  auto by_name = [&](const std::string& name) -> const SpanData& {
    for (const auto& s : *decoded) {
      if (s.name == name) return s;
    }
    throw std::runtime_error("no span " + name);
  };
  const SpanData& root = by_name(spans[0].name);
  const SpanData& child = by_name(spans[1].name);
  const SpanData& remote = by_name(spans[2].name);
  EXPECT_EQ(child.parent_span_id, spans[1].parent_span_id);
  EXPECT_FALSE(child.parent_is_remote);
  EXPECT_TRUE(remote.parent_is_remote);
  ASSERT_EQ(remote.links.size(), 2u);
  EXPECT_TRUE(remote.links[0].context.is_remote());
  EXPECT_FALSE(remote.links[1].context.is_remote());
  EXPECT_EQ(child.context.trace_state().to_header(), "vendor=abc,other=x");
  EXPECT_EQ(root.resource, child.resource);  // one Resource per ResourceSpans
  EXPECT_NE(root.resource, remote.resource);
}

TEST(OtlpDecode, JsonRoundTripIsLossless) {
  auto spans = testing::rich_batch();
  std::string error;
  auto decoded = decode_otlp_json(encode_json(spans), &error);
  ASSERT_TRUE(decoded) << error;
  EXPECT_EQ(encode_protobuf(*decoded), encode_protobuf(spans));
}

TEST(OtlpDecode, JsonIsReadLeniently) {
  std::string body = R"({"resourceSpans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"svc"}}]},
    "scopeSpans":[{"scope":{"name":"s"},"spans":[{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
      "name":"n","kind":"SPAN_KIND_CONSUMER","startTimeUnixNano":1544712660000000000,
      "endTimeUnixNano":"1544712661000000000","flags":257,
      "attributes":[{"key":"i","value":{"intValue":7}},{"key":"d","value":{"doubleValue":"NaN"}},
                    {"key":"kv","value":{"kvlistValue":{"values":[]}}},
                    {"key":"mixed","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"a"}]}}}],
      "status":{"code":"STATUS_CODE_ERROR","message":"boom"},"unknownField":true}]}]}]})";
  std::string error;
  auto decoded = decode_otlp_json(body, &error);
  ASSERT_TRUE(decoded) << error;
  ASSERT_EQ(decoded->size(), 1u);
  const SpanData& s = (*decoded)[0];
  EXPECT_EQ(s.context.trace_id().to_hex(), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(s.kind, SpanKind::kConsumer);
  EXPECT_EQ(s.start_unix_nano, 1544712660000000000ULL);
  EXPECT_EQ(s.end_unix_nano, 1544712661000000000ULL);
  EXPECT_TRUE(s.context.sampled());
  ASSERT_EQ(s.attributes.size(), 2u);  // kvlist and mixed array dropped ...
  EXPECT_EQ(s.dropped_attributes_count, 2u);  // ... and counted
  EXPECT_EQ(std::get<std::int64_t>(s.attributes[0].value), 7);
  EXPECT_TRUE(std::isnan(std::get<double>(s.attributes[1].value)));
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.status_description, "boom");
}

TEST(OtlpDecode, BadProtobufIsRejectedWithAReason) {
  std::string error;
  EXPECT_FALSE(decode_otlp_protobuf("\xff\xff\xff garbage", &error));
  EXPECT_FALSE(error.empty());

  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  auto* span = request.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id("short");
  span->set_span_id(std::string(8, '\1'));
  error.clear();
  EXPECT_FALSE(decode_otlp_protobuf(request.SerializeAsString(), &error));
  EXPECT_NE(error.find("trace_id"), std::string::npos) << error;

  span->set_trace_id(std::string(16, '\0'));  // right size, but invalid
  EXPECT_FALSE(decode_otlp_protobuf(request.SerializeAsString(), &error));
}

TEST(OtlpDecode, BadJsonIsRejectedWithAReason) {
  for (const char* body :
       {"", "[]", "{not json", R"({"resourceSpans":{}})",
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"eee19b7ec3c1b174"}]}]}]})",
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"soon"}]}]}]})",
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":42}]}]}]})"}) {
    std::string error;
    EXPECT_FALSE(decode_otlp_json(body, &error)) << body;
    EXPECT_FALSE(error.empty()) << body;
  }
}

TEST(OtlpDecode, EmptyRequestIsNoSpans) {
  auto p = decode_otlp_protobuf("");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
  auto j = decode_otlp_json("{}");
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->empty());
}

}  // namespace
}  // namespace kiq::otel::sdk
