// SpanData -> OTLP protobuf messages (the generated classes). The exporter encodes with
// encoding_wire.cpp instead; this is the reference its output is checked against.
#include <algorithm>
#include <array>
#include <iterator>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "otel/otlp/encoding.hpp"
#include "otel/otlp/utf8.hpp"

namespace kiq::otel::otlp {
namespace {

using pb::common::v1::AnyValue;
using pb::common::v1::KeyValue;

// A copy of `value` fit for a proto3 string (valid UTF-8; see utf8.hpp). The copy is what the
// setter would make anyway, and it is moved in.
std::string text(const std::string& value) {
  return valid_utf8(value) ? value : to_valid_utf8(value);
}

template <typename T>
void set_array(const std::vector<T>& values, AnyValue& out) {
  auto* array = out.mutable_array_value();
  array->mutable_values()->Reserve(static_cast<int>(values.size()));
  for (const auto& v : values) {
    AnyValue* item = array->add_values();
    if constexpr (std::is_same_v<T, bool>) {
      item->set_bool_value(v);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      item->set_int_value(v);
    } else if constexpr (std::is_same_v<T, double>) {
      item->set_double_value(v);
    } else {
      item->set_string_value(text(v));
    }
  }
}

void set_value(const AttributeValue& value, AnyValue& out) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out.set_int_value(v);
        } else if constexpr (std::is_same_v<T, double>) {
          out.set_double_value(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.set_string_value(text(v));
        } else {
          set_array(v, out);
        }
      },
      value);
}

template <typename Repeated>
void set_attributes(const Attributes& attributes, Repeated& out) {
  out.Reserve(static_cast<int>(attributes.size()));
  for (const auto& attribute : attributes) {
    KeyValue* kv = out.Add();
    kv->set_key(text(attribute.key));
    set_value(attribute.value, *kv->mutable_value());
  }
}

template <std::size_t N>
std::string as_bytes(const std::array<std::uint8_t, N>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), N);
}

void set_span(const sdk::SpanData& data, pb::trace::v1::Span& span) {
  const SpanContext& ctx = data.context;
  span.set_trace_id(as_bytes(ctx.trace_id().bytes()));
  span.set_span_id(as_bytes(ctx.span_id().bytes()));
  if (!ctx.trace_state().empty()) span.set_trace_state(ctx.trace_state().to_header());  // ASCII
  if (data.has_parent()) span.set_parent_span_id(as_bytes(data.parent_span_id.bytes()));
  span.set_name(text(data.name));
  span.set_kind(static_cast<pb::trace::v1::Span::SpanKind>(data.kind));
  span.set_start_time_unix_nano(data.start_unix_nano);
  span.set_end_time_unix_nano(data.end_unix_nano);
  set_attributes(data.attributes, *span.mutable_attributes());
  span.set_dropped_attributes_count(data.dropped_attributes_count);
  span.mutable_events()->Reserve(static_cast<int>(data.events.size()));
  for (const auto& event : data.events) {
    auto* e = span.add_events();
    e->set_time_unix_nano(event.time_unix_nano);
    e->set_name(text(event.name));
    set_attributes(event.attributes, *e->mutable_attributes());
    e->set_dropped_attributes_count(event.dropped_attributes_count);
  }
  span.set_dropped_events_count(data.dropped_events_count);
  span.mutable_links()->Reserve(static_cast<int>(data.links.size()));
  for (const auto& link : data.links) {
    auto* l = span.add_links();
    l->set_trace_id(as_bytes(link.context.trace_id().bytes()));
    l->set_span_id(as_bytes(link.context.span_id().bytes()));
    if (!link.context.trace_state().empty()) {
      l->set_trace_state(link.context.trace_state().to_header());
    }
    set_attributes(link.attributes, *l->mutable_attributes());
    l->set_dropped_attributes_count(link.dropped_attributes_count);
    l->set_flags(span_flags(link.context.trace_flags(), link.context.is_remote()));
  }
  span.set_dropped_links_count(data.dropped_links_count);
  auto* status = span.mutable_status();
  status->set_code(static_cast<pb::trace::v1::Status::StatusCode>(data.status_code));
  if (data.status_code == StatusCode::kError) {
    status->set_message(text(data.status_description));
  }
  // For a root span "parent is remote" is known to be false: the has-is-remote bit is set.
  span.set_flags(span_flags(ctx.trace_flags(), data.has_parent() && data.parent_is_remote));
}

void set_resource(const sdk::Resource* resource, pb::trace::v1::ResourceSpans& out) {
  auto* r = out.mutable_resource();
  if (resource == nullptr) return;
  set_attributes(resource->attributes(), *r->mutable_attributes());
  out.set_schema_url(text(resource->schema_url()));
}

void set_scope(const sdk::InstrumentationScope* scope, pb::trace::v1::ScopeSpans& out) {
  auto* s = out.mutable_scope();
  if (scope == nullptr) return;
  s->set_name(text(scope->name));
  s->set_version(text(scope->version));
  set_attributes(scope->attributes, *s->mutable_attributes());
  out.set_schema_url(text(scope->schema_url));
}

struct ResourceGroup {
  const sdk::Resource* resource;
  pb::trace::v1::ResourceSpans* out;
  std::vector<std::pair<const sdk::InstrumentationScope*, pb::trace::v1::ScopeSpans*>> scopes;
};

}  // namespace

std::uint32_t span_flags(TraceFlags flags, bool remote) {
  return (flags.value() & kFlagsTraceFlagsMask) | kFlagsHasIsRemote | (remote ? kFlagsIsRemote : 0);
}

void to_proto(std::span<const sdk::SpanData> batch,
              pb::collector::trace::v1::ExportTraceServiceRequest& out) {
  // Few resources and scopes per batch (usually one each): linear search beats hashing here.
  std::vector<ResourceGroup> groups;
  for (const auto& data : batch) {
    const sdk::Resource* resource = data.resource.get();
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const ResourceGroup& g) { return g.resource == resource; });
    if (group == groups.end()) {
      groups.push_back({resource, out.add_resource_spans(), {}});
      set_resource(resource, *groups.back().out);
      group = std::prev(groups.end());
    }
    const sdk::InstrumentationScope* scope = data.scope.get();
    auto scope_it = std::find_if(group->scopes.begin(), group->scopes.end(),
                                 [&](const auto& s) { return s.first == scope; });
    if (scope_it == group->scopes.end()) {
      group->scopes.emplace_back(scope, group->out->add_scope_spans());
      set_scope(scope, *group->scopes.back().second);
      scope_it = std::prev(group->scopes.end());
    }
    set_span(data, *scope_it->second->add_spans());
  }
}

std::string encode_protobuf_generated(std::span<const sdk::SpanData> batch) {
  pb::collector::trace::v1::ExportTraceServiceRequest request;
  to_proto(batch, request);
  std::string body;
  request.SerializeToString(&body);
  return body;
}

}  // namespace kiq::otel::otlp
