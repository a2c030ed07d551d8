// SpanData -> OTLP/JSON (otel.md D.4: the proto3 JSON mapping with OTLP's deviations).
#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "otel/otlp/encoding.hpp"

namespace kiq::otel::otlp {
namespace {

using nlohmann::json;

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * N, '0');
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

// proto3 JSON: non-finite doubles are the strings "NaN", "Infinity", "-Infinity".
json double_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

json scalar_json(bool v) { return {{"boolValue", v}}; }
json scalar_json(std::int64_t v) { return {{"intValue", std::to_string(v)}}; }
json scalar_json(double v) { return {{"doubleValue", double_json(v)}}; }
json scalar_json(const std::string& v) { return {{"stringValue", v}}; }

json value_json(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> ||
                      std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
          return scalar_json(v);
        } else {
          json values = json::array();
          for (const auto& item : v) {
            // std::vector<bool> yields a proxy: convert to the element type explicitly.
            values.push_back(scalar_json(static_cast<typename T::value_type>(item)));
          }
          return {{"arrayValue", {{"values", std::move(values)}}}};
        }
      },
      value);
}

json attributes_json(const Attributes& attributes) {
  json out = json::array();
  for (const auto& attribute : attributes) {
    out.push_back({{"key", attribute.key}, {"value", value_json(attribute.value)}});
  }
  return out;
}

json span_json(const sdk::SpanData& data) {
  const SpanContext& ctx = data.context;
  json span = {{"traceId", hex(ctx.trace_id().bytes())}, {"spanId", hex(ctx.span_id().bytes())}};
  if (!ctx.trace_state().empty()) span["traceState"] = ctx.trace_state().to_header();
  if (data.has_parent()) span["parentSpanId"] = hex(data.parent_span_id.bytes());
  span["flags"] = span_flags(ctx.trace_flags(), data.has_parent() && data.parent_is_remote);
  span["name"] = data.name;
  span["kind"] = static_cast<int>(data.kind);
  span["startTimeUnixNano"] = std::to_string(data.start_unix_nano);
  span["endTimeUnixNano"] = std::to_string(data.end_unix_nano);
  span["attributes"] = attributes_json(data.attributes);
  if (data.dropped_attributes_count != 0) {
    span["droppedAttributesCount"] = data.dropped_attributes_count;
  }
  json events = json::array();
  for (const auto& event : data.events) {
    json e = {{"timeUnixNano", std::to_string(event.time_unix_nano)},
              {"name", event.name},
              {"attributes", attributes_json(event.attributes)}};
    if (event.dropped_attributes_count != 0) {
      e["droppedAttributesCount"] = event.dropped_attributes_count;
    }
    events.push_back(std::move(e));
  }
  span["events"] = std::move(events);
  if (data.dropped_events_count != 0) span["droppedEventsCount"] = data.dropped_events_count;
  json links = json::array();
  for (const auto& link : data.links) {
    json l = {{"traceId", hex(link.context.trace_id().bytes())},
              {"spanId", hex(link.context.span_id().bytes())}};
    if (!link.context.trace_state().empty()) l["traceState"] = link.context.trace_state().to_header();
    l["attributes"] = attributes_json(link.attributes);
    if (link.dropped_attributes_count != 0) {
      l["droppedAttributesCount"] = link.dropped_attributes_count;
    }
    l["flags"] = span_flags(link.context.trace_flags(), link.context.is_remote());
    links.push_back(std::move(l));
  }
  span["links"] = std::move(links);
  if (data.dropped_links_count != 0) span["droppedLinksCount"] = data.dropped_links_count;
  json status = json::object();
  if (data.status_code != StatusCode::kUnset) status["code"] = static_cast<int>(data.status_code);
  if (data.status_code == StatusCode::kError && !data.status_description.empty()) {
    status["message"] = data.status_description;
  }
  span["status"] = std::move(status);
  return span;
}

json resource_json(const sdk::Resource* resource) {
  json out = {{"attributes", json::array()}};
  if (resource != nullptr) out["attributes"] = attributes_json(resource->attributes());
  return out;
}

json scope_json(const sdk::InstrumentationScope* scope) {
  json out = json::object();
  if (scope == nullptr) return out;
  out["name"] = scope->name;
  if (!scope->version.empty()) out["version"] = scope->version;
  if (!scope->attributes.empty()) out["attributes"] = attributes_json(scope->attributes);
  return out;
}

}  // namespace

std::string encode_json(std::span<const sdk::SpanData> batch) {
  // Same grouping as to_proto: by Resource object, then by scope object, first-seen order.
  struct ScopeGroup {
    const sdk::InstrumentationScope* scope;
    json spans = json::array();
  };
  struct ResourceGroup {
    const sdk::Resource* resource;
    std::vector<ScopeGroup> scopes;
  };
  std::vector<ResourceGroup> groups;
  for (const auto& data : batch) {
    auto group = std::find_if(groups.begin(), groups.end(), [&](const ResourceGroup& g) {
      return g.resource == data.resource.get();
    });
    if (group == groups.end()) {
      groups.push_back({data.resource.get(), {}});
      group = std::prev(groups.end());
    }
    auto scope = std::find_if(group->scopes.begin(), group->scopes.end(),
                              [&](const ScopeGroup& s) { return s.scope == data.scope.get(); });
    if (scope == group->scopes.end()) {
      group->scopes.push_back({data.scope.get()});
      scope = std::prev(group->scopes.end());
    }
    scope->spans.push_back(span_json(data));
  }

  json resource_spans = json::array();
  for (auto& group : groups) {
    json scope_spans = json::array();
    for (auto& scope : group.scopes) {
      json s = {{"scope", scope_json(scope.scope)}, {"spans", std::move(scope.spans)}};
      if (scope.scope != nullptr && !scope.scope->schema_url.empty()) {
        s["schemaUrl"] = scope.scope->schema_url;
      }
      scope_spans.push_back(std::move(s));
    }
    json r = {{"resource", resource_json(group.resource)}, {"scopeSpans", std::move(scope_spans)}};
    if (group.resource != nullptr && !group.resource->schema_url().empty()) {
      r["schemaUrl"] = group.resource->schema_url();
    }
    resource_spans.push_back(std::move(r));
  }
  json request = {{"resourceSpans", std::move(resource_spans)}};
  // Invalid UTF-8 in user strings must not make export throw: replace it (U+FFFD).
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace kiq::otel::otlp
