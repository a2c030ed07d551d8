// SpanData -> serialized ExportTraceServiceRequest, written straight into the wire format.
//
// Why: building the generated message objects (string copies, RepeatedPtrField growth, then
// destruction) and serializing them cost more CPU than the exporter's HTTP work. This writes the
// same bytes directly. Field numbers come from the protoc-generated classes, so the .proto files
// stay the single source of truth; encoding_test.cpp checks that the output equals
// SerializeToString of to_proto() for a rich set of spans.
//
// proto3 rules followed, as SerializeToString does them: fields in field-number order; scalar
// and string fields at their default (0, empty) are omitted; oneof members (AnyValue's) and
// message fields that to_proto() sets (resource, scope, KeyValue.value, Span.status) are
// always written, even when empty.
#include <algorithm>
#include <array>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "otel/otlp/encoding.hpp"
#include "otel/otlp/proto_writer.hpp"
#include "otel/otlp/utf8.hpp"

namespace kiq::otel::otlp {
namespace {

using pb::common::v1::AnyValue;
using pb::common::v1::ArrayValue;
using pb::common::v1::InstrumentationScope;
using pb::common::v1::KeyValue;
using pb::collector::trace::v1::ExportTraceServiceRequest;
using pb::resource::v1::Resource;
using pb::trace::v1::ResourceSpans;
using pb::trace::v1::ScopeSpans;
using pb::trace::v1::Span;
using pb::trace::v1::Status;

// proto3 `string` must be valid UTF-8 (see utf8.hpp): invalid text is repaired, as to_proto does.
void text_value(ProtoWriter& w, int field, const std::string& value) {
  if (valid_utf8(value)) {
    w.bytes_field(field, value);
  } else {
    w.bytes_field(field, to_valid_utf8(value));
  }
}

// A plain (non-oneof) proto3 string: omitted when empty.
void text_field(ProtoWriter& w, int field, const std::string& value) {
  if (!value.empty()) text_value(w, field, value);
}

void uint_field(ProtoWriter& w, int field, std::uint64_t value) {
  if (value != 0) w.varint_field(field, value);
}

void fixed64_field(ProtoWriter& w, int field, std::uint64_t value) {
  if (value != 0) w.fixed64_field(field, value);
}

template <std::size_t N>
std::string_view as_bytes(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

// One AnyValue member (oneof: written even when it is the type's default).
template <typename T>
void scalar_value(ProtoWriter& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.bool_field(AnyValue::kBoolValueFieldNumber, v);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    w.int64_field(AnyValue::kIntValueFieldNumber, v);
  } else if constexpr (std::is_same_v<T, double>) {
    w.double_field(AnyValue::kDoubleValueFieldNumber, v);
  } else {
    text_value(w, AnyValue::kStringValueFieldNumber, v);
  }
}

template <typename T>
std::size_t size_guess(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return v.size() + 2;
  } else {
    return 10;
  }
}

// The AnyValue body of `value` (the caller opened the enclosing message).
void any_value_body(ProtoWriter& w, const AttributeValue& value) {
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> ||
                      std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
          scalar_value(w, v);
        } else {
          auto array = w.begin_message(AnyValue::kArrayValueFieldNumber, v.size() * 12);
          for (const auto& item : v) {
            using Item = std::decay_t<decltype(item)>;  // vector<bool>'s proxy decays to bool
            const auto& element = static_cast<const Item&>(item);
            auto any = w.begin_message(ArrayValue::kValuesFieldNumber, size_guess(element));
            scalar_value(w, element);
            w.end_message(any);
          }
          w.end_message(array);
        }
      },
      value);
}

std::size_t value_size_guess(const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return s->size() + 2;
  return value.index() < 4 ? 10 : 64;
}

// Repeated KeyValue field `field` with every attribute.
void attributes_field(ProtoWriter& w, int field, const Attributes& attributes) {
  for (const auto& attribute : attributes) {
    const std::size_t value_guess = value_size_guess(attribute.value);
    auto kv = w.begin_message(field, attribute.key.size() + value_guess + 4);
    text_field(w, KeyValue::kKeyFieldNumber, attribute.key);
    auto any = w.begin_message(KeyValue::kValueFieldNumber, value_guess);
    any_value_body(w, attribute.value);
    w.end_message(any);
    w.end_message(kv);
  }
}

void span_message(ProtoWriter& w, const sdk::SpanData& data) {
  const SpanContext& ctx = data.context;
  auto span = w.begin_message(ScopeSpans::kSpansFieldNumber, 500);
  w.bytes_field(Span::kTraceIdFieldNumber, as_bytes(ctx.trace_id().bytes()));
  w.bytes_field(Span::kSpanIdFieldNumber, as_bytes(ctx.span_id().bytes()));
  if (!ctx.trace_state().empty()) {
    w.bytes_field(Span::kTraceStateFieldNumber, ctx.trace_state().to_header());  // ASCII
  }
  if (data.has_parent()) {
    w.bytes_field(Span::kParentSpanIdFieldNumber, as_bytes(data.parent_span_id.bytes()));
  }
  text_field(w, Span::kNameFieldNumber, data.name);
  // Enum: int32 on the wire; kiq's SpanKind values are OTLP's.
  const auto kind = static_cast<std::int32_t>(data.kind);
  if (kind != 0) w.int64_field(Span::kKindFieldNumber, kind);
  fixed64_field(w, Span::kStartTimeUnixNanoFieldNumber, data.start_unix_nano);
  fixed64_field(w, Span::kEndTimeUnixNanoFieldNumber, data.end_unix_nano);
  attributes_field(w, Span::kAttributesFieldNumber, data.attributes);
  uint_field(w, Span::kDroppedAttributesCountFieldNumber, data.dropped_attributes_count);
  for (const auto& event : data.events) {
    auto e = w.begin_message(Span::kEventsFieldNumber, 24 + event.attributes.size() * 24);
    fixed64_field(w, Span::Event::kTimeUnixNanoFieldNumber, event.time_unix_nano);
    text_field(w, Span::Event::kNameFieldNumber, event.name);
    attributes_field(w, Span::Event::kAttributesFieldNumber, event.attributes);
    uint_field(w, Span::Event::kDroppedAttributesCountFieldNumber,
               event.dropped_attributes_count);
    w.end_message(e);
  }
  uint_field(w, Span::kDroppedEventsCountFieldNumber, data.dropped_events_count);
  for (const auto& link : data.links) {
    auto l = w.begin_message(Span::kLinksFieldNumber, 40 + link.attributes.size() * 24);
    w.bytes_field(Span::Link::kTraceIdFieldNumber, as_bytes(link.context.trace_id().bytes()));
    w.bytes_field(Span::Link::kSpanIdFieldNumber, as_bytes(link.context.span_id().bytes()));
    if (!link.context.trace_state().empty()) {
      w.bytes_field(Span::Link::kTraceStateFieldNumber, link.context.trace_state().to_header());
    }
    attributes_field(w, Span::Link::kAttributesFieldNumber, link.attributes);
    uint_field(w, Span::Link::kDroppedAttributesCountFieldNumber, link.dropped_attributes_count);
    const std::uint32_t flags = span_flags(link.context.trace_flags(), link.context.is_remote());
    if (flags != 0) w.fixed32_field(Span::Link::kFlagsFieldNumber, flags);
    w.end_message(l);
  }
  uint_field(w, Span::kDroppedLinksCountFieldNumber, data.dropped_links_count);
  {  // Always present, as to_proto sets it (an empty message for UNSET).
    auto status = w.begin_message(Span::kStatusFieldNumber, 2);
    if (data.status_code == StatusCode::kError) {
      text_field(w, Status::kMessageFieldNumber, data.status_description);
    }
    const auto code = static_cast<std::int32_t>(data.status_code);
    if (code != 0) w.int64_field(Status::kCodeFieldNumber, code);
    w.end_message(status);
  }
  // For a root span "parent is remote" is known to be false: the has-is-remote bit is set.
  const std::uint32_t flags =
      span_flags(ctx.trace_flags(), data.has_parent() && data.parent_is_remote);
  if (flags != 0) w.fixed32_field(Span::kFlagsFieldNumber, flags);
  w.end_message(span);
}

struct ScopeGroup {
  const sdk::InstrumentationScope* scope;
  std::vector<const sdk::SpanData*> spans;
};

struct ResourceGroup {
  const sdk::Resource* resource;
  std::vector<ScopeGroup> scopes;
};

// Grouping contract of encoding.hpp: by object identity, in order of first appearance.
std::vector<ResourceGroup> group_batch(std::span<const sdk::SpanData> batch) {
  // Few resources and scopes per batch (usually one each): linear search beats hashing here.
  std::vector<ResourceGroup> groups;
  for (const auto& data : batch) {
    const sdk::Resource* resource = data.resource.get();
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const ResourceGroup& r) { return r.resource == resource; });
    if (g == groups.end()) g = groups.insert(groups.end(), ResourceGroup{resource, {}});
    const sdk::InstrumentationScope* scope = data.scope.get();
    auto s = std::find_if(g->scopes.begin(), g->scopes.end(),
                          [&](const ScopeGroup& sg) { return sg.scope == scope; });
    if (s == g->scopes.end()) {
      s = g->scopes.insert(g->scopes.end(), ScopeGroup{scope, {}});
      s->spans.reserve(batch.size());
    }
    s->spans.push_back(&data);
  }
  return groups;
}

void scope_spans_message(ProtoWriter& w, const ScopeGroup& group) {
  auto scope_spans =
      w.begin_message(ResourceSpans::kScopeSpansFieldNumber, group.spans.size() * 500);
  {
    auto scope = w.begin_message(ScopeSpans::kScopeFieldNumber, 32);
    if (group.scope != nullptr) {
      text_field(w, InstrumentationScope::kNameFieldNumber, group.scope->name);
      text_field(w, InstrumentationScope::kVersionFieldNumber, group.scope->version);
      attributes_field(w, InstrumentationScope::kAttributesFieldNumber, group.scope->attributes);
    }
    w.end_message(scope);
  }
  for (const sdk::SpanData* data : group.spans) span_message(w, *data);
  if (group.scope != nullptr) {
    text_field(w, ScopeSpans::kSchemaUrlFieldNumber, group.scope->schema_url);
  }
  w.end_message(scope_spans);
}

void resource_spans_message(ProtoWriter& w, const ResourceGroup& group,
                            std::size_t expected_size) {
  auto resource_spans =
      w.begin_message(ExportTraceServiceRequest::kResourceSpansFieldNumber, expected_size);
  {
    auto resource = w.begin_message(ResourceSpans::kResourceFieldNumber, 200);
    if (group.resource != nullptr) {
      attributes_field(w, Resource::kAttributesFieldNumber, group.resource->attributes());
    }
    w.end_message(resource);
  }
  for (const auto& scope : group.scopes) scope_spans_message(w, scope);
  if (group.resource != nullptr) {
    text_field(w, ResourceSpans::kSchemaUrlFieldNumber, group.resource->schema_url());
  }
  w.end_message(resource_spans);
}

}  // namespace

std::string encode_protobuf(std::span<const sdk::SpanData> batch) {
  std::string body;
  {
    ProtoWriter w(body, 256 + batch.size() * 512);  // kiq's job spans: ~500 bytes each
    for (const auto& group : group_batch(batch)) {
      resource_spans_message(w, group, batch.size() * 500);
    }
  }  // the writer trims `body` to what it wrote
  return body;
}

}  // namespace kiq::otel::otlp
