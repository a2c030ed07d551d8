// OTLP/JSON shape (otel.md D.4): lowerCamelCase, hex ids, enums as ints, int64 as strings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "otel/otlp/encoding.hpp"
#include "unit/otlp/sample_spans.hpp"

namespace kiq::otel::otlp {
namespace {

using nlohmann::json;
using testing::sample_span;

json encode(const std::vector<sdk::SpanData>& spans) { return json::parse(encode_json(spans)); }

const json& only_span(const json& request) {
  return request.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
}

// Every object key anywhere in `j`; attribute keys are values ("key": ...), not object keys.
void collect_keys(const json& j, std::vector<std::string>& keys) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      keys.push_back(it.key());
      collect_keys(it.value(), keys);
    }
  } else if (j.is_array()) {
    for (const auto& item : j) collect_keys(item, keys);
  }
}

sdk::SpanData rich_span() {
  sdk::SpanData data = sample_span(3);
  data.parent_span_id = testing::span_id_of(9);
  data.parent_is_remote = true;
  data.kind = SpanKind::kProducer;
  data.attributes = {{"b", false},
                     {"i", std::int64_t{9007199254740993}},  // not representable as a double
                     {"d", 0.25},
                     {"s", std::string("q\"uote")},
                     {"ia", std::vector<std::int64_t>{-1, 2}},
                     {"ba", std::vector<bool>{true}},
                     {"da", std::vector<double>{1.5}},
                     {"sa", std::vector<std::string>{"a", "b"}}};
  data.events.push_back({"created_at", 1700000000000000001ULL, {{"n", std::int64_t{5}}}, 0});
  data.links.push_back({SpanContext(testing::trace_id_of(20), testing::span_id_of(20),
                                    TraceFlags(1), true),
                        {{"l", std::string("v")}}, 0});
  data.status_code = StatusCode::kError;
  data.status_description = "boom";
  data.dropped_attributes_count = 2;
  return data;
}

TEST(OtlpJsonEncoding, IdsAreLowercaseHex) {
  json span = only_span(encode({rich_span()}));
  EXPECT_EQ(span["traceId"], testing::trace_id_of(3).to_hex());
  EXPECT_EQ(span["traceId"], "030405060708090a0b0c0d0e0f101112");
  EXPECT_EQ(span["spanId"], "434445464748494a");
  EXPECT_EQ(span["parentSpanId"], testing::span_id_of(9).to_hex());
  EXPECT_EQ(span["links"][0]["traceId"], testing::trace_id_of(20).to_hex());
  EXPECT_EQ(span["links"][0]["spanId"], testing::span_id_of(20).to_hex());
}

TEST(OtlpJsonEncoding, RootSpanHasNoParentSpanId) {
  json span = only_span(encode({sample_span()}));
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_EQ(span["flags"], 0x101);
}

TEST(OtlpJsonEncoding, EnumsAreIntegersAnd64BitIntsAreStrings) {
  sdk::SpanData data = rich_span();
  json span = only_span(encode({data}));
  EXPECT_EQ(span["kind"], 4);
  EXPECT_EQ(span["status"]["code"], 2);
  EXPECT_EQ(span["status"]["message"], "boom");
  EXPECT_EQ(span["startTimeUnixNano"], std::to_string(data.start_unix_nano));
  EXPECT_EQ(span["endTimeUnixNano"], std::to_string(data.end_unix_nano));
  EXPECT_EQ(span["events"][0]["timeUnixNano"], "1700000000000000001");
  EXPECT_EQ(span["flags"], 0x301);  // 32-bit: a number
  EXPECT_EQ(span["links"][0]["flags"], 0x301);
  EXPECT_EQ(span["droppedAttributesCount"], 2);
}

TEST(OtlpJsonEncoding, AttributeValuesOfEveryType) {
  json attrs = only_span(encode({rich_span()}))["attributes"];
  ASSERT_EQ(attrs.size(), 8u);
  EXPECT_EQ(attrs[0], json::parse(R"({"key":"b","value":{"boolValue":false}})"));
  EXPECT_EQ(attrs[1], json::parse(R"({"key":"i","value":{"intValue":"9007199254740993"}})"));
  EXPECT_EQ(attrs[2], json::parse(R"({"key":"d","value":{"doubleValue":0.25}})"));
  EXPECT_EQ(attrs[3], json::parse(R"({"key":"s","value":{"stringValue":"q\"uote"}})"));
  EXPECT_EQ(attrs[4], json::parse(
      R"({"key":"ia","value":{"arrayValue":{"values":[{"intValue":"-1"},{"intValue":"2"}]}}})"));
  EXPECT_EQ(attrs[5], json::parse(
      R"({"key":"ba","value":{"arrayValue":{"values":[{"boolValue":true}]}}})"));
  EXPECT_EQ(attrs[6], json::parse(
      R"({"key":"da","value":{"arrayValue":{"values":[{"doubleValue":1.5}]}}})"));
  EXPECT_EQ(attrs[7], json::parse(
      R"({"key":"sa","value":{"arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b"}]}}})"));
}

TEST(OtlpJsonEncoding, NonFiniteDoublesAreProto3Strings) {
  sdk::SpanData data = sample_span();
  data.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                     {"inf", std::numeric_limits<double>::infinity()},
                     {"ninf", -std::numeric_limits<double>::infinity()}};
  json attrs = only_span(encode({data}))["attributes"];
  EXPECT_EQ(attrs[0]["value"]["doubleValue"], "NaN");
  EXPECT_EQ(attrs[1]["value"]["doubleValue"], "Infinity");
  EXPECT_EQ(attrs[2]["value"]["doubleValue"], "-Infinity");
}

TEST(OtlpJsonEncoding, KeysAreLowerCamelCase) {
  std::vector<std::string> keys;
  collect_keys(encode({rich_span()}), keys);
  ASSERT_FALSE(keys.empty());
  for (const auto& key : keys) {
    EXPECT_EQ(key.find('_'), std::string::npos) << key;
    EXPECT_TRUE(std::islower(static_cast<unsigned char>(key[0]))) << key;
  }
  for (const char* expected : {"resourceSpans", "scopeSpans", "traceId", "spanId", "parentSpanId",
                               "startTimeUnixNano", "endTimeUnixNano", "timeUnixNano",
                               "droppedAttributesCount", "stringValue", "intValue", "boolValue",
                               "doubleValue", "arrayValue"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), expected), keys.end()) << expected;
  }
}

TEST(OtlpJsonEncoding, ResourceScopeAndGrouping) {
  sdk::SpanData a = sample_span(1);
  sdk::SpanData b = sample_span(2);
  b.scope = testing::sample_scope("other", "2.0");
  json request = encode({a, b});
  ASSERT_EQ(request["resourceSpans"].size(), 1u);
  const json& rs = request["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0],
            json::parse(R"({"key":"service.name","value":{"stringValue":"otlp-test"}})"));
  ASSERT_EQ(rs["scopeSpans"].size(), 2u);
  EXPECT_EQ(rs["scopeSpans"][0]["scope"], json::parse(R"({"name":"kiq.test","version":"1.0"})"));
  EXPECT_EQ(rs["scopeSpans"][1]["scope"], json::parse(R"({"name":"other","version":"2.0"})"));
}

TEST(OtlpJsonEncoding, InvalidUtf8DoesNotThrow) {
  sdk::SpanData data = sample_span();
  data.name = std::string("bad\xff\xfe name");
  std::string body;
  EXPECT_NO_THROW(body = encode_json(std::vector<sdk::SpanData>{data}));
  EXPECT_NO_THROW({
    json parsed = json::parse(body);
    EXPECT_TRUE(parsed.is_object());
  });
}

}  // namespace
}  // namespace kiq::otel::otlp
