// OTLP/JSON ExportTraceServiceRequest -> SpanData (otel.md D.4; lenient where receivers must
// be: ids in any case, 64-bit integers as strings or numbers, enums as integers or names).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include <nlohmann/json.hpp>

#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "otel/otlp/encoding.hpp"

namespace kiq::otel::sdk {
namespace {

using nlohmann::json;

struct DecodeError {
  std::string message;
};

const json& field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

const json& array_field(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json& v = field(object, key);
  if (v.is_null()) return kEmpty;
  if (!v.is_array()) throw DecodeError{std::string(key) + " must be an array"};
  return v;
}

std::string string_field(const json& object, const char* key) {
  const json& v = field(object, key);
  if (v.is_null()) return {};
  if (!v.is_string()) throw DecodeError{std::string(key) + " must be a string"};
  return v.get<std::string>();
}

// Integers: JSON numbers or decimal strings (proto3 JSON writes 64-bit ones as strings).
template <typename T>
T integer_field(const json& object, const char* key) {
  const json& v = field(object, key);
  if (v.is_null()) return 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) return static_cast<T>(v.get<std::uint64_t>());
    return static_cast<T>(v.get<std::int64_t>());
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    T out{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size()) return out;
  }
  throw DecodeError{std::string(key) + " must be an integer"};
}

// Enums: integer, or the enum value's name from `names` (index = value).
int enum_field(const json& object, const char* key, std::initializer_list<const char*> names) {
  const json& v = field(object, key);
  if (v.is_string()) {
    int i = 0;
    for (const char* name : names) {
      if (v.get_ref<const std::string&>() == name) return i;
      ++i;
    }
  }
  return integer_field<int>(object, key);
}

template <typename Id>
Id id_field(const json& object, const char* key, bool required) {
  std::string hex = string_field(object, key);
  if (hex.empty() && !required) return Id();
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto id = Id::from_hex(hex);
  if (!id) throw DecodeError{std::string(key) + " must be " + std::to_string(2 * Id::kSize) +
                             " hex characters, got '" + hex + "'"};
  return *id;
}

std::optional<double> double_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

// One AnyValue as a scalar AttributeValue; nullopt for anything else.
std::optional<AttributeValue> scalar_of(const json& v) {
  if (!v.is_object()) return std::nullopt;
  if (v.contains("stringValue") && v["stringValue"].is_string()) {
    return AttributeValue(v["stringValue"].get<std::string>());
  }
  if (v.contains("boolValue") && v["boolValue"].is_boolean()) {
    return AttributeValue(v["boolValue"].get<bool>());
  }
  if (v.contains("intValue")) return AttributeValue(integer_field<std::int64_t>(v, "intValue"));
  if (v.contains("doubleValue")) {
    if (auto d = double_of(v["doubleValue"])) return AttributeValue(*d);
  }
  return std::nullopt;
}

std::optional<AttributeValue> value_of(const json& v) {
  if (auto scalar = scalar_of(v)) return scalar;
  const json& array = field(field(v, "arrayValue"), "values");
  if (!field(v, "arrayValue").is_object()) return std::nullopt;
  if (array.is_null() || (array.is_array() && array.empty())) {
    return AttributeValue(std::vector<std::string>{});
  }
  if (!array.is_array()) return std::nullopt;
  std::vector<AttributeValue> items;
  for (const auto& item : array) {
    auto scalar = scalar_of(item);
    if (!scalar || scalar->index() != (items.empty() ? scalar->index() : items[0].index())) {
      return std::nullopt;  // nested, unsupported or mixed
    }
    items.push_back(std::move(*scalar));
  }
  auto collect = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> out;
    for (auto& item : items) out.push_back(std::get<T>(item));
    return AttributeValue(std::move(out));
  };
  switch (items[0].index()) {
    case 0: return collect(bool{});
    case 1: return collect(std::int64_t{});
    case 2: return collect(double{});
    default: return collect(std::string{});
  }
}

std::uint32_t attributes_of(const json& owner, Attributes& out) {
  std::uint32_t dropped = 0;
  for (const auto& kv : array_field(owner, "attributes")) {
    std::string key = string_field(kv, "key");
    if (auto value = value_of(field(kv, "value"))) {
      out.push_back({std::move(key), std::move(*value)});
    } else {
      ++dropped;
    }
  }
  return dropped;
}

TraceState trace_state_of(const json& owner) {
  std::string header = string_field(owner, "traceState");
  if (header.empty()) return {};
  return TraceState::parse(header).value_or(TraceState());
}

bool remote_of(std::uint32_t flags) {
  return (flags & otlp::kFlagsHasIsRemote) != 0 && (flags & otlp::kFlagsIsRemote) != 0;
}

TraceFlags trace_flags_of(std::uint32_t flags) {
  return TraceFlags(static_cast<std::uint8_t>(flags & otlp::kFlagsTraceFlagsMask));
}

SpanData span_of(const json& s) {
  SpanData data;
  auto flags = integer_field<std::uint32_t>(s, "flags");
  data.context = SpanContext(id_field<TraceId>(s, "traceId", true), id_field<SpanId>(s, "spanId", true),
                             trace_flags_of(flags), false, trace_state_of(s));
  if (!data.context.valid()) throw DecodeError{"all-zero traceId or spanId"};
  data.parent_span_id = id_field<SpanId>(s, "parentSpanId", false);
  data.parent_is_remote = data.parent_span_id.valid() && remote_of(flags);
  data.name = string_field(s, "name");
  int kind = enum_field(s, "kind", {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                    "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"});
  data.kind = kind >= 1 && kind <= 5 ? static_cast<SpanKind>(kind) : SpanKind::kInternal;
  data.start_unix_nano = integer_field<std::uint64_t>(s, "startTimeUnixNano");
  data.end_unix_nano = integer_field<std::uint64_t>(s, "endTimeUnixNano");
  data.dropped_attributes_count = integer_field<std::uint32_t>(s, "droppedAttributesCount") +
                                  attributes_of(s, data.attributes);
  for (const auto& e : array_field(s, "events")) {
    EventData event{string_field(e, "name"), integer_field<std::uint64_t>(e, "timeUnixNano"), {}, 0};
    event.dropped_attributes_count = integer_field<std::uint32_t>(e, "droppedAttributesCount") +
                                     attributes_of(e, event.attributes);
    data.events.push_back(std::move(event));
  }
  data.dropped_events_count = integer_field<std::uint32_t>(s, "droppedEventsCount");
  for (const auto& l : array_field(s, "links")) {
    LinkData link;
    auto link_flags = integer_field<std::uint32_t>(l, "flags");
    link.context = SpanContext(id_field<TraceId>(l, "traceId", true), id_field<SpanId>(l, "spanId", true),
                               trace_flags_of(link_flags), remote_of(link_flags), trace_state_of(l));
    link.dropped_attributes_count = integer_field<std::uint32_t>(l, "droppedAttributesCount") +
                                    attributes_of(l, link.attributes);
    data.links.push_back(std::move(link));
  }
  data.dropped_links_count = integer_field<std::uint32_t>(s, "droppedLinksCount");
  const json& status = field(s, "status");
  int code = enum_field(status, "code", {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"});
  data.status_code = code >= 0 && code <= 2 ? static_cast<StatusCode>(code) : StatusCode::kUnset;
  if (data.status_code == StatusCode::kError) data.status_description = string_field(status, "message");
  return data;
}

}  // namespace

std::optional<std::vector<SpanData>> decode_otlp_json(std::string_view body, std::string* error) {
  json request = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!request.is_object()) {
    if (error) *error = "not a JSON object";
    return std::nullopt;
  }
  std::vector<SpanData> spans;
  try {
    for (const auto& rs : array_field(request, "resourceSpans")) {
      Attributes resource_attributes;
      attributes_of(field(rs, "resource"), resource_attributes);
      auto resource = std::make_shared<const Resource>(std::move(resource_attributes),
                                                       string_field(rs, "schemaUrl"));
      for (const auto& ss : array_field(rs, "scopeSpans")) {
        auto scope = std::make_shared<InstrumentationScope>();
        const json& scope_json = field(ss, "scope");
        scope->name = string_field(scope_json, "name");
        scope->version = string_field(scope_json, "version");
        scope->schema_url = string_field(ss, "schemaUrl");
        attributes_of(scope_json, scope->attributes);
        std::shared_ptr<const InstrumentationScope> shared_scope = std::move(scope);
        for (const auto& s : array_field(ss, "spans")) {
          SpanData data = span_of(s);
          data.resource = resource;
          data.scope = shared_scope;
          spans.push_back(std::move(data));
        }
      }
    }
  } catch (const DecodeError& e) {
    if (error) *error = e.message;
    return std::nullopt;
  } catch (const json::exception& e) {  // a value of an unexpected JSON type
    if (error) *error = e.what();
    return std::nullopt;
  }
  return spans;
}

}  // namespace kiq::otel::sdk
