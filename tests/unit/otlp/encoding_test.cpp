// OTLP protobuf encoding: encode SpanData, decode with the generated classes, compare.
#include <gtest/gtest.h>

#include <cmath>

#include "otel/otlp/encoding.hpp"
#include "otel/otlp/utf8.hpp"
#include "unit/otlp/sample_spans.hpp"

namespace kiq::otel::otlp {
namespace {

using testing::sample_span;
using Request = pb::collector::trace::v1::ExportTraceServiceRequest;

template <std::size_t N>
std::string raw(const std::array<std::uint8_t, N>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), N);
}

Request round_trip(const std::vector<sdk::SpanData>& spans) {
  std::string body = encode_protobuf(spans);
  Request request;
  EXPECT_TRUE(request.ParseFromString(body));
  return request;
}

pb::trace::v1::Span only_span(const Request& request) {  // a copy: callers pass temporaries
  EXPECT_EQ(request.resource_spans_size(), 1);
  EXPECT_EQ(request.resource_spans(0).scope_spans_size(), 1);
  EXPECT_EQ(request.resource_spans(0).scope_spans(0).spans_size(), 1);
  if (request.resource_spans_size() == 0 || request.resource_spans(0).scope_spans_size() == 0 ||
      request.resource_spans(0).scope_spans(0).spans_size() == 0) {
    return {};
  }
  return request.resource_spans(0).scope_spans(0).spans(0);
}

TEST(OtlpProtoEncoding, RootSpanCoreFields) {
  sdk::SpanData data = sample_span(7);
  data.kind = SpanKind::kConsumer;
  Request request = round_trip({data});
  const auto& span = only_span(request);
  EXPECT_EQ(span.trace_id(), raw(data.context.trace_id().bytes()));
  EXPECT_EQ(span.trace_id().size(), 16u);
  EXPECT_EQ(span.span_id(), raw(data.context.span_id().bytes()));
  EXPECT_EQ(span.span_id().size(), 8u);
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_TRUE(span.trace_state().empty());
  EXPECT_EQ(span.name(), "span-7");
  EXPECT_EQ(span.kind(), pb::trace::v1::Span::SPAN_KIND_CONSUMER);
  EXPECT_EQ(span.start_time_unix_nano(), data.start_unix_nano);
  EXPECT_EQ(span.end_time_unix_nano(), data.end_unix_nano);
  EXPECT_EQ(span.flags(), 0x101u);  // sampled, parent "is remote" known and false
  EXPECT_EQ(span.status().code(), pb::trace::v1::Status::STATUS_CODE_UNSET);
  EXPECT_TRUE(span.status().message().empty());
}

TEST(OtlpProtoEncoding, EveryKindMapsToItsOtlpValue) {
  for (SpanKind kind : {SpanKind::kInternal, SpanKind::kServer, SpanKind::kClient,
                        SpanKind::kProducer, SpanKind::kConsumer}) {
    sdk::SpanData data = sample_span();
    data.kind = kind;
    EXPECT_EQ(static_cast<int>(only_span(round_trip({data})).kind()), static_cast<int>(kind));
  }
}

TEST(OtlpProtoEncoding, ParentIdAndRemoteBits) {
  sdk::SpanData local = sample_span(1);
  local.parent_span_id = testing::span_id_of(99);
  local.parent_is_remote = false;
  sdk::SpanData remote = local;
  remote.parent_is_remote = true;
  sdk::SpanData unsampled = local;
  unsampled.context = SpanContext(local.context.trace_id(), local.context.span_id(),
                                  TraceFlags(0), false);

  const auto& l = only_span(round_trip({local}));
  EXPECT_EQ(l.parent_span_id(), raw(testing::span_id_of(99).bytes()));
  EXPECT_EQ(l.flags(), 0x101u);
  EXPECT_EQ(only_span(round_trip({remote})).flags(), 0x301u);
  EXPECT_EQ(only_span(round_trip({unsampled})).flags(), 0x100u);
}

TEST(OtlpProtoEncoding, TraceStateIsTheHeaderForm) {
  sdk::SpanData data = sample_span();
  auto state = TraceState::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  ASSERT_TRUE(state);
  data.context = SpanContext(data.context.trace_id(), data.context.span_id(),
                             data.context.trace_flags(), false, *state);
  EXPECT_EQ(only_span(round_trip({data})).trace_state(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

TEST(OtlpProtoEncoding, AttributesOfEveryType) {
  sdk::SpanData data = sample_span();
  data.attributes = {
      {"b", true},
      {"i", std::int64_t{-42}},
      {"d", 2.5},
      {"s", std::string("text")},
      {"ba", std::vector<bool>{true, false}},
      {"ia", std::vector<std::int64_t>{1, -2, 3}},
      {"da", std::vector<double>{0.5, -1.25}},
      {"sa", std::vector<std::string>{"x", "y"}},
  };
  data.dropped_attributes_count = 3;
  const auto& span = only_span(round_trip({data}));
  ASSERT_EQ(span.attributes_size(), 8);
  EXPECT_EQ(span.dropped_attributes_count(), 3u);
  const auto& a = span.attributes();
  EXPECT_EQ(a[0].key(), "b");
  EXPECT_TRUE(a[0].value().bool_value());
  EXPECT_EQ(a[1].value().int_value(), -42);
  EXPECT_EQ(a[2].value().double_value(), 2.5);
  EXPECT_EQ(a[3].value().string_value(), "text");
  ASSERT_EQ(a[4].value().array_value().values_size(), 2);
  EXPECT_TRUE(a[4].value().array_value().values(0).bool_value());
  EXPECT_EQ(a[4].value().array_value().values(1).value_case(), pb::common::v1::AnyValue::kBoolValue);
  EXPECT_FALSE(a[4].value().array_value().values(1).bool_value());
  ASSERT_EQ(a[5].value().array_value().values_size(), 3);
  EXPECT_EQ(a[5].value().array_value().values(1).int_value(), -2);
  ASSERT_EQ(a[6].value().array_value().values_size(), 2);
  EXPECT_EQ(a[6].value().array_value().values(1).double_value(), -1.25);
  ASSERT_EQ(a[7].value().array_value().values_size(), 2);
  EXPECT_EQ(a[7].value().array_value().values(1).string_value(), "y");
}

TEST(OtlpProtoEncoding, EventsLinksAndDroppedCounts) {
  sdk::SpanData data = sample_span();
  data.events.push_back({"created_at", 1700000000000000123ULL, {{"k", std::int64_t{1}}}, 2});
  data.events.push_back({"second", 1700000000000000456ULL, {}, 0});
  data.dropped_events_count = 4;
  auto state = TraceState::parse("vendor=v");
  ASSERT_TRUE(state);
  data.links.push_back({SpanContext(testing::trace_id_of(50), testing::span_id_of(50),
                                    TraceFlags(1), true, *state),
                        {{"link.kind", std::string("origin")}}, 1});
  data.links.push_back({SpanContext(testing::trace_id_of(60), testing::span_id_of(60),
                                    TraceFlags(0), false),
                        {}, 0});
  data.dropped_links_count = 5;

  const auto& span = only_span(round_trip({data}));
  ASSERT_EQ(span.events_size(), 2);
  EXPECT_EQ(span.events(0).name(), "created_at");
  EXPECT_EQ(span.events(0).time_unix_nano(), 1700000000000000123ULL);
  ASSERT_EQ(span.events(0).attributes_size(), 1);
  EXPECT_EQ(span.events(0).attributes(0).value().int_value(), 1);
  EXPECT_EQ(span.events(0).dropped_attributes_count(), 2u);
  EXPECT_EQ(span.events(1).name(), "second");
  EXPECT_EQ(span.dropped_events_count(), 4u);

  ASSERT_EQ(span.links_size(), 2);
  EXPECT_EQ(span.links(0).trace_id(), raw(testing::trace_id_of(50).bytes()));
  EXPECT_EQ(span.links(0).span_id(), raw(testing::span_id_of(50).bytes()));
  EXPECT_EQ(span.links(0).trace_state(), "vendor=v");
  EXPECT_EQ(span.links(0).flags(), 0x301u);  // sampled + remote
  ASSERT_EQ(span.links(0).attributes_size(), 1);
  EXPECT_EQ(span.links(0).attributes(0).value().string_value(), "origin");
  EXPECT_EQ(span.links(0).dropped_attributes_count(), 1u);
  EXPECT_EQ(span.links(1).flags(), 0x100u);  // not sampled, local
  EXPECT_EQ(span.dropped_links_count(), 5u);
}

TEST(OtlpProtoEncoding, StatusMessageOnlyWithError) {
  sdk::SpanData error = sample_span();
  error.status_code = StatusCode::kError;
  error.status_description = "Unhandled exception of type: std::runtime_error";
  sdk::SpanData ok = sample_span();
  ok.status_code = StatusCode::kOk;
  ok.status_description = "ignored";

  const auto& e = only_span(round_trip({error}));
  EXPECT_EQ(e.status().code(), pb::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(e.status().message(), "Unhandled exception of type: std::runtime_error");
  const auto& o = only_span(round_trip({ok}));
  EXPECT_EQ(o.status().code(), pb::trace::v1::Status::STATUS_CODE_OK);
  EXPECT_TRUE(o.status().message().empty());
}

TEST(OtlpProtoEncoding, ResourceAndScope) {
  sdk::SpanData data = sample_span();
  auto scope = std::make_shared<sdk::InstrumentationScope>();
  scope->name = "kiq.jobs";
  scope->version = "0.1.0";
  scope->schema_url = "https://opentelemetry.io/schemas/1.24.0";
  scope->attributes = {{"scope.attr", true}};
  data.scope = scope;
  data.resource = std::make_shared<const sdk::Resource>(
      Attributes{{"service.name", std::string("billing")}}, "https://example.com/schema");

  Request request = round_trip({data});
  const auto& rs = request.resource_spans(0);
  ASSERT_EQ(rs.resource().attributes_size(), 1);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "billing");
  EXPECT_EQ(rs.schema_url(), "https://example.com/schema");
  const auto& ss = rs.scope_spans(0);
  EXPECT_EQ(ss.scope().name(), "kiq.jobs");
  EXPECT_EQ(ss.scope().version(), "0.1.0");
  ASSERT_EQ(ss.scope().attributes_size(), 1);
  EXPECT_EQ(ss.schema_url(), "https://opentelemetry.io/schemas/1.24.0");
}

TEST(OtlpProtoEncoding, OneResourceSpansPerResourceOneScopeSpansPerScope) {
  auto res_a = testing::sample_resource("a");
  auto res_b = testing::sample_resource("b");
  auto scope_1 = testing::sample_scope("one", "1");
  auto scope_2 = testing::sample_scope("two", "2");
  std::vector<sdk::SpanData> spans;
  auto add = [&](auto res, auto scope, std::uint8_t seed) {
    sdk::SpanData s = sample_span(seed);
    s.resource = res;
    s.scope = scope;
    spans.push_back(s);
  };
  add(res_a, scope_1, 1);
  add(res_b, scope_2, 2);
  add(res_a, scope_2, 3);
  add(res_a, scope_1, 4);
  add(res_b, scope_2, 5);

  Request request = round_trip(spans);
  ASSERT_EQ(request.resource_spans_size(), 2);
  const auto& a = request.resource_spans(0);
  EXPECT_EQ(a.resource().attributes(0).value().string_value(), "a");
  ASSERT_EQ(a.scope_spans_size(), 2);
  EXPECT_EQ(a.scope_spans(0).scope().name(), "one");
  ASSERT_EQ(a.scope_spans(0).spans_size(), 2);
  EXPECT_EQ(a.scope_spans(0).spans(0).name(), "span-1");
  EXPECT_EQ(a.scope_spans(0).spans(1).name(), "span-4");
  EXPECT_EQ(a.scope_spans(1).scope().name(), "two");
  EXPECT_EQ(a.scope_spans(1).spans_size(), 1);
  const auto& b = request.resource_spans(1);
  EXPECT_EQ(b.resource().attributes(0).value().string_value(), "b");
  ASSERT_EQ(b.scope_spans_size(), 1);
  EXPECT_EQ(b.scope_spans(0).spans_size(), 2);
}

TEST(OtlpProtoEncoding, SpanWithoutResourceOrScopeStillEncodes) {
  sdk::SpanData data = sample_span();
  data.resource = nullptr;
  data.scope = nullptr;
  Request request = round_trip({data});
  EXPECT_EQ(only_span(request).name(), "span-1");
  EXPECT_EQ(request.resource_spans(0).resource().attributes_size(), 0);
}

TEST(OtlpProtoEncoding, InvalidUtf8IsRepairedSoTheBatchStaysDecodable) {
  sdk::SpanData data = sample_span();
  data.name = "bad\xff name";
  data.attributes = {{"k\xc3", std::string("v\xed\xa0\x80")},  // truncated; a surrogate
                     {"ok", std::string("h\xc3\xa9llo \xf0\x9f\x98\x80")}};
  auto span = only_span(round_trip({data}));
  EXPECT_EQ(span.name(), "bad\xef\xbf\xbd name");
  ASSERT_EQ(span.attributes_size(), 2);
  EXPECT_EQ(span.attributes(0).key(), "k\xef\xbf\xbd");
  EXPECT_EQ(span.attributes(0).value().string_value(), "v\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(span.attributes(1).value().string_value(), "h\xc3\xa9llo \xf0\x9f\x98\x80");
}

TEST(OtlpUtf8, Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe2\x82"));          // truncated
  EXPECT_EQ(to_valid_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
}

TEST(OtlpProtoEncoding, EmptyBatchIsAnEmptyRequest) {
  EXPECT_EQ(round_trip({}).resource_spans_size(), 0);
}

TEST(OtlpProtoEncoding, SpanFlagsFieldHasWireTag133) {
  // Span.flags is fixed32 field 16: tag (16 << 3) | 5 = 133 = varint 0x85 0x01.
  std::string body = encode_protobuf(std::vector<sdk::SpanData>{sample_span()});
  EXPECT_NE(body.find(std::string("\x85\x01\x01\x01\x00\x00", 6)), std::string::npos);
}

}  // namespace
}  // namespace kiq::otel::otlp
