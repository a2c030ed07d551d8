// The direct wire encoder (encode_protobuf) against the generated-code reference
// (encode_protobuf_generated): same bytes, and both parse into equal messages.
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <limits>

#include "otel/otlp/encoding.hpp"
#include "otel/otlp/proto_writer.hpp"
#include "unit/otlp/sample_spans.hpp"

namespace kiq::otel::otlp {
namespace {

using Request = pb::collector::trace::v1::ExportTraceServiceRequest;
using testing::rich_batch;
using testing::sample_batch;
using testing::sample_resource;
using testing::sample_scope;
using testing::sample_span;
using testing::span_id_of;
using testing::trace_id_of;

// Both encodings; `equal_messages`: also compare the parsed messages field by field (off for
// batches with NaN, which never compares equal to itself).
void expect_same_encoding(const std::vector<sdk::SpanData>& batch, bool equal_messages = true) {
  const std::string fast = encode_protobuf(batch);
  const std::string reference = encode_protobuf_generated(batch);
  EXPECT_EQ(fast, reference);
  Request a;
  Request b;
  ASSERT_TRUE(a.ParseFromString(fast));
  ASSERT_TRUE(b.ParseFromString(reference));
  if (equal_messages) {
    std::string diff;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differencer.Compare(a, b)) << diff;
  }
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

TEST(OtlpWireEncoding, EmptyBatch) { expect_same_encoding({}); }

TEST(OtlpWireEncoding, RichBatch) { expect_same_encoding(rich_batch()); }

TEST(OtlpWireEncoding, LargeBatchNeedsLongLengths) {
  expect_same_encoding(sample_batch(255));  // ScopeSpans well past 16 KiB: 3-byte lengths
}

TEST(OtlpWireEncoding, EveryAttributeEdge) {
  sdk::SpanData span = sample_span(5);
  span.attributes = {
      {"false", false},
      {"zero", std::int64_t{0}},
      {"min", std::numeric_limits<std::int64_t>::min()},
      {"max", std::numeric_limits<std::int64_t>::max()},
      {"dzero", 0.0},
      {"dneg", -0.0},
      {"inf", std::numeric_limits<double>::infinity()},
      {"tiny", std::numeric_limits<double>::denorm_min()},
      {"empty", std::string()},
      {"", std::string("empty key")},
      {"long", std::string(300, 'x')},
      {"longer", std::string(20000, 'y')},
      {"ea_b", std::vector<bool>{}},
      {"ea_i", std::vector<std::int64_t>{}},
      {"ea_d", std::vector<double>{}},
      {"ea_s", std::vector<std::string>{}},
      {"ba", std::vector<bool>{false, true, false}},
      {"ia", std::vector<std::int64_t>{0, -1, std::numeric_limits<std::int64_t>::max()}},
      {"da", std::vector<double>{0.0, -1.5, 1e300}},
      {"sa", std::vector<std::string>{"", "a", std::string(200, 'z')}},
      {"bad\xff", std::string("v\xc3(")},
      {"bad_array", std::vector<std::string>{"ok", "\xe2\x82"}},
      {"utf8", std::string("caf\xc3\xa9 \xe2\x9c\x93")},
  };
  span.dropped_attributes_count = 1000;
  expect_same_encoding({span});
}

// Around the size where a KeyValue's length stops fitting one varint byte (varint_size takes
// a shortcut below it), for every value type and in event and link attributes too.
TEST(OtlpWireEncoding, KeyValuesAroundTheOneByteLength) {
  std::vector<sdk::SpanData> batch;
  for (std::size_t key = 50; key <= 70; ++key) {
    for (std::size_t text = 50; text <= 70; text += 2) {
      sdk::SpanData span = sample_span(static_cast<std::uint8_t>(batch.size() % 200 + 1));
      span.attributes = {{std::string(key, 'k'), std::string(text, 't')},
                         {std::string(key, 'u'), std::string(text / 2, 'v') + "\xc3\xa9"},
                         {std::string(key + text - 4, 'i'), std::int64_t{-1}},
                         {std::string(key + text, 'j'), std::int64_t{1} << 40},
                         {std::string(key + text, 'd'), 2.5},
                         {std::string(key + text, 'b'), true}};
      span.events = {{"e", 1, span.attributes, 0}};
      span.links = {{span.context, span.attributes, 0}};
      batch.push_back(std::move(span));
    }
  }
  expect_same_encoding(batch);
}

TEST(OtlpWireEncoding, NaNDouble) {
  sdk::SpanData span = sample_span(6);
  span.attributes = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                     {"nans", std::vector<double>{std::nan("")}}};
  expect_same_encoding({span}, /*equal_messages=*/false);
}

TEST(OtlpWireEncoding, EventsLinksStatusAndDefaults) {
  sdk::SpanData span = sample_span(7);
  span.name.clear();
  span.start_unix_nano = 0;
  span.end_unix_nano = 0;
  span.attributes.clear();
  span.events.push_back({"", 0, {}, 0});
  span.events.push_back({"e\xfe", 42, {{"k", std::string(150, 'q')}, {"n", 1.25}}, 7});
  for (int i = 0; i < 40; ++i) {
    span.events.push_back({"ev" + std::to_string(i), 1700000000000000000ULL + i,
                           {{"i", std::int64_t{i}}}, 0});
  }
  span.dropped_events_count = 300;
  span.links.push_back({SpanContext(trace_id_of(1), span_id_of(2), TraceFlags(0), false), {}, 0});
  span.links.push_back({SpanContext(trace_id_of(3), span_id_of(4), TraceFlags(1), true,
                                    TraceState::parse("a=1,b=2").value_or(TraceState())),
                        {{"x", true}, {"y", std::vector<std::string>{"p", "q"}}},
                        200});
  span.dropped_links_count = 70000;
  span.status_code = StatusCode::kError;
  span.status_description = "";  // error without a message: code only
  expect_same_encoding({span});

  span.status_description = "boom \xc0";
  expect_same_encoding({span});
  span.status_code = StatusCode::kOk;  // description ignored unless kError
  expect_same_encoding({span});
}

TEST(OtlpWireEncoding, ResourcesScopesAndMissingOnes) {
  auto resource = std::make_shared<const sdk::Resource>(
      Attributes{{"service.name", std::string("svc")}, {"pid", std::int64_t{4242}}},
      "https://opentelemetry.io/schemas/1.24.0");
  auto scope = std::make_shared<sdk::InstrumentationScope>();
  scope->name = "scope\xff";
  scope->version = "";
  scope->attributes = {{"scope.attr", 3.5}};
  scope->schema_url = "https://example.test/scope";
  auto bare_scope = sample_scope("", "");

  std::vector<sdk::SpanData> batch;
  for (std::uint8_t i = 1; i <= 12; ++i) {
    sdk::SpanData span = sample_span(i);
    switch (i % 4) {
      case 0: span.resource = resource; span.scope = scope; break;
      case 1: span.resource = nullptr; span.scope = nullptr; break;
      case 2: span.resource = resource; span.scope = bare_scope; break;
      default: span.scope = nullptr; break;  // the sample resource
    }
    if (i % 3 == 0) {
      span.parent_span_id = span_id_of(100 + i);
      span.parent_is_remote = (i % 2) == 0;
    }
    batch.push_back(std::move(span));
  }
  expect_same_encoding(batch);
  expect_same_encoding({sample_span(1)});
}

// The exporter's path: one WireEncoder for batch after batch (kept buffer, cached resource and
// scope bytes, length guesses from the previous spans) gives each batch's exact bytes.
TEST(OtlpWireEncoding, ReusedEncoderMatchesTheReferenceBatchAfterBatch) {
  WireEncoder encoder;
  std::vector<std::vector<sdk::SpanData>> batches = {sample_batch(40), rich_batch(), {},
                                                      sample_batch(1), sample_batch(255)};
  {  // spans of very different sizes in a row: the span length guess is wrong both ways
    std::vector<sdk::SpanData> mixed = sample_batch(6);
    mixed[1].attributes.push_back({"big", std::string(20000, 'b')});
    mixed[3].attributes.clear();
    mixed[3].events.clear();
    mixed[4].attributes.push_back({"mid", std::string(200, 'm')});
    batches.push_back(std::move(mixed));
  }
  {  // more resources and scopes than the caches keep: entries are dropped and rebuilt
    std::vector<sdk::SpanData> many;
    for (int i = 0; i < 40; ++i) {
      sdk::SpanData span = sample_span(static_cast<std::uint8_t>(i + 1));
      span.resource = sample_resource("svc-" + std::to_string(i));
      span.scope = sample_scope("scope-" + std::to_string(i % 20), "1." + std::to_string(i));
      many.push_back(std::move(span));
    }
    batches.push_back(std::move(many));
  }
  for (int round = 0; round < 2; ++round) {
    for (const auto& batch : batches) {
      const std::string reference = encode_protobuf_generated(batch);
      EXPECT_EQ(std::string(encoder.encode(batch)), reference);
      EXPECT_EQ(encode_protobuf(batch), reference);
    }
    encoder.release();  // and everything again from empty caches
  }
}

// The ASCII fast path reads strings by words (shorter ones by halves or bytes, tails by an
// overlapping load): a non-ASCII byte anywhere, in strings of every length, must be noticed
// (valid UTF-8 kept, invalid repaired) in keys, values and names.
TEST(OtlpWireEncoding, NonAsciiByteAtEveryPositionOfEveryLength) {
  for (std::size_t length = 1; length <= 20; ++length) {
    std::vector<sdk::SpanData> batch;
    for (std::size_t at = 0; at < length; ++at) {
      std::string invalid(length, 'a');
      invalid[at] = '\xff';
      std::string valid(length, 'b');
      if (at + 1 < length) {
        valid[at] = '\xc3';  // U+00E9
        valid[at + 1] = '\xa9';
      }
      sdk::SpanData span = sample_span(static_cast<std::uint8_t>(at + 1));
      span.name = invalid;
      span.attributes = {{invalid, valid}, {valid, invalid}, {"k", std::int64_t(-1)}};
      batch.push_back(std::move(span));
    }
    const std::string fast = encode_protobuf(batch);
    ASSERT_EQ(fast, encode_protobuf_generated(batch)) << "length " << length;
    Request parsed;
    ASSERT_TRUE(parsed.ParseFromString(fast));
    const auto& first = parsed.resource_spans(0).scope_spans(0).spans(0);
    EXPECT_NE(first.name(), batch[0].name);  // repaired
    EXPECT_EQ(first.attributes(0).value().string_value(), batch[0].attributes[0].value.index() == 3
                                                               ? std::get<std::string>(batch[0].attributes[0].value)
                                                               : "");
  }
}

// A resource or scope freed while cached can't alias a new one at the same address: the cache
// keeps the objects it describes alive.
TEST(OtlpWireEncoding, CachedResourceIsKeptAlive) {
  WireEncoder encoder;
  std::weak_ptr<const sdk::Resource> weak;
  {
    std::vector<sdk::SpanData> batch = sample_batch(2);
    auto resource = sample_resource("short-lived");
    weak = resource;
    for (auto& span : batch) span.resource = resource;
    EXPECT_EQ(std::string(encoder.encode(batch)), encode_protobuf_generated(batch));
  }
  EXPECT_FALSE(weak.expired());
  std::vector<sdk::SpanData> next = sample_batch(2);
  for (auto& span : next) span.resource = sample_resource("another");
  EXPECT_EQ(std::string(encoder.encode(next)), encode_protobuf_generated(next));
}

// Whatever the guess, a nested message's length is a minimal varint and the body is intact.
TEST(OtlpWireEncoding, WriterLengthsAreMinimalVarints) {
  for (std::size_t size : {0u, 1u, 127u, 128u, 16383u, 16384u, 2097152u}) {
    for (std::size_t guess : {0u, 200u, 20000u, 3000000u}) {
      std::string out;
      ProtoWriter w(out);
      auto mark = w.begin_message(1, guess);
      w.bytes_field(2, std::string(size, 'a'));
      w.end_message(mark);
      w.finish();
      const std::size_t body = 1 + ProtoWriter::varint_size(size) + size;
      ASSERT_EQ(out.size(), 1 + ProtoWriter::varint_size(body) + body) << size << "/" << guess;
      std::uint64_t length = 0;
      std::size_t i = 1;
      for (int shift = 0;; ++i, shift += 7) {
        const auto byte = static_cast<std::uint8_t>(out[i]);
        length |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) break;
      }
      EXPECT_EQ(length, body);
      EXPECT_EQ(out.substr(i + 1 + 1 + ProtoWriter::varint_size(size)), std::string(size, 'a'));
    }
  }
}

}  // namespace
}  // namespace kiq::otel::otlp

namespace kiq::otel::otlp {
namespace {

// The serialized path (BatchSpanProcessor + SpanSerializer): spans serialized one by one, then
// concatenated per resource and scope, give the bytes encode() gives for the same spans.
std::string serialized_request(WireEncoder& encoder, const std::vector<sdk::SpanData>& batch,
                               std::size_t spans_per_part) {
  struct Part {
    std::shared_ptr<const sdk::Resource> resource;
    std::shared_ptr<const sdk::InstrumentationScope> scope;
    std::string bytes;
    std::size_t count = 0;
  };
  std::vector<Part> parts;
  std::string scratch;
  for (const auto& span : batch) {  // as the processor does: a new part when origin changes
    if (parts.empty() || parts.back().resource != span.resource ||
        parts.back().scope != span.scope || parts.back().count == spans_per_part) {
      parts.push_back({span.resource, span.scope, {}, 0});
    }
    parts.back().bytes.append(serialize_span(span, scratch));
    ++parts.back().count;
  }
  std::vector<sdk::SerializedSpans> view;
  for (const auto& p : parts) view.push_back({p.resource, p.scope, p.bytes, p.count});
  return std::string(encoder.encode_serialized(view));
}

TEST(OtlpWireEncoding, SerializedSpansMakeTheSameRequest) {
  auto other_resource = std::make_shared<const sdk::Resource>(
      Attributes{{"service.name", std::string("other")}});
  auto other_scope = sample_scope("other-scope", "2.0");
  std::vector<sdk::SpanData> mixed = rich_batch();
  for (std::uint8_t i = 1; i <= 9; ++i) {  // interleaved origins, missing ones included
    sdk::SpanData span = sample_span(i);
    if (i % 3 == 0) span.resource = other_resource;
    if (i % 2 == 0) span.scope = other_scope;
    if (i == 7) span.resource = nullptr, span.scope = nullptr;
    mixed.push_back(std::move(span));
  }
  WireEncoder encoder;
  for (const auto& batch : {sample_batch(1), sample_batch(255), rich_batch(), mixed}) {
    const std::string expected = encode_protobuf(batch);
    for (std::size_t per_part : {std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
      EXPECT_EQ(serialized_request(encoder, batch, per_part), expected)
          << batch.size() << " spans, " << per_part << " per part";
    }
  }
  EXPECT_EQ(serialized_request(encoder, {}, 1), encode_protobuf({}));
}

TEST(OtlpWireEncoding, SerializedSpanIsTheScopeSpansField) {
  std::string scratch(3, 'x');  // stale scratch contents are overwritten, not appended to
  const sdk::SpanData span = sample_span(5);
  const std::string bytes(serialize_span(span, scratch));
  pb::trace::v1::ScopeSpans scope_spans;
  ASSERT_TRUE(scope_spans.ParseFromString(bytes));
  ASSERT_EQ(scope_spans.spans_size(), 1);
  EXPECT_EQ(scope_spans.spans(0).name(), span.name);
  EXPECT_FALSE(scope_spans.has_scope());
}

}  // namespace
}  // namespace kiq::otel::otlp
