// ExportTraceServiceRequest (protobuf) -> SpanData.
#include <cstring>
#include <memory>

#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "otel/otlp/encoding.hpp"

namespace kiq::otel::sdk {
namespace {

namespace pb = ::opentelemetry::proto;
using pb::common::v1::AnyValue;

struct DecodeError {
  std::string message;
};

template <std::size_t N>
std::array<std::uint8_t, N> id_bytes(const std::string& raw, const char* what) {
  if (raw.size() != N) {
    throw DecodeError{std::string(what) + " must be " + std::to_string(N) + " bytes, got " +
                      std::to_string(raw.size())};
  }
  std::array<std::uint8_t, N> out{};
  std::memcpy(out.data(), raw.data(), N);
  return out;
}

// Homogeneous scalar arrays only; nullopt for what AttributeValue cannot hold.
std::optional<AttributeValue> array_value(const pb::common::v1::ArrayValue& array) {
  if (array.values_size() == 0) return AttributeValue(std::vector<std::string>{});
  auto kind = array.values(0).value_case();
  for (const auto& v : array.values()) {
    if (v.value_case() != kind) return std::nullopt;
  }
  switch (kind) {
    case AnyValue::kBoolValue: {
      std::vector<bool> out;
      for (const auto& v : array.values()) out.push_back(v.bool_value());
      return AttributeValue(std::move(out));
    }
    case AnyValue::kIntValue: {
      std::vector<std::int64_t> out;
      for (const auto& v : array.values()) out.push_back(v.int_value());
      return AttributeValue(std::move(out));
    }
    case AnyValue::kDoubleValue: {
      std::vector<double> out;
      for (const auto& v : array.values()) out.push_back(v.double_value());
      return AttributeValue(std::move(out));
    }
    case AnyValue::kStringValue: {
      std::vector<std::string> out;
      for (const auto& v : array.values()) out.push_back(v.string_value());
      return AttributeValue(std::move(out));
    }
    default:
      return std::nullopt;
  }
}

std::optional<AttributeValue> value_of(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kBoolValue: return AttributeValue(v.bool_value());
    case AnyValue::kIntValue: return AttributeValue(static_cast<std::int64_t>(v.int_value()));
    case AnyValue::kDoubleValue: return AttributeValue(v.double_value());
    case AnyValue::kStringValue: return AttributeValue(v.string_value());
    case AnyValue::kArrayValue: return array_value(v.array_value());
    default: return std::nullopt;  // bytes, kvlist, empty
  }
}

// Returns the number of attributes dropped.
template <typename Repeated>
std::uint32_t attributes_of(const Repeated& in, Attributes& out) {
  std::uint32_t dropped = 0;
  out.reserve(static_cast<std::size_t>(in.size()));
  for (const auto& kv : in) {
    if (auto value = value_of(kv.value())) {
      out.push_back({kv.key(), std::move(*value)});
    } else {
      ++dropped;
    }
  }
  return dropped;
}

TraceState trace_state_of(const std::string& header) {
  if (header.empty()) return {};
  return TraceState::parse(header).value_or(TraceState());
}

bool remote_of(std::uint32_t flags) {
  return (flags & otlp::kFlagsHasIsRemote) != 0 && (flags & otlp::kFlagsIsRemote) != 0;
}

SpanData span_of(const pb::trace::v1::Span& s) {
  SpanData data;
  TraceId trace_id(id_bytes<16>(s.trace_id(), "trace_id"));
  SpanId span_id(id_bytes<8>(s.span_id(), "span_id"));
  if (!trace_id.valid() || !span_id.valid()) throw DecodeError{"all-zero trace_id or span_id"};
  auto flags = TraceFlags(static_cast<std::uint8_t>(s.flags() & otlp::kFlagsTraceFlagsMask));
  data.context = SpanContext(trace_id, span_id, flags, false, trace_state_of(s.trace_state()));
  if (!s.parent_span_id().empty()) {
    data.parent_span_id = SpanId(id_bytes<8>(s.parent_span_id(), "parent_span_id"));
    data.parent_is_remote = remote_of(s.flags());
  }
  data.name = s.name();
  int kind = static_cast<int>(s.kind());
  data.kind = kind >= 1 && kind <= 5 ? static_cast<SpanKind>(kind) : SpanKind::kInternal;
  data.start_unix_nano = s.start_time_unix_nano();
  data.end_unix_nano = s.end_time_unix_nano();
  data.dropped_attributes_count =
      s.dropped_attributes_count() + attributes_of(s.attributes(), data.attributes);
  for (const auto& e : s.events()) {
    EventData event{e.name(), e.time_unix_nano(), {}, 0};
    event.dropped_attributes_count =
        e.dropped_attributes_count() + attributes_of(e.attributes(), event.attributes);
    data.events.push_back(std::move(event));
  }
  data.dropped_events_count = s.dropped_events_count();
  for (const auto& l : s.links()) {
    LinkData link;
    auto link_flags = TraceFlags(static_cast<std::uint8_t>(l.flags() & otlp::kFlagsTraceFlagsMask));
    link.context = SpanContext(TraceId(id_bytes<16>(l.trace_id(), "link trace_id")),
                               SpanId(id_bytes<8>(l.span_id(), "link span_id")), link_flags,
                               remote_of(l.flags()), trace_state_of(l.trace_state()));
    link.dropped_attributes_count =
        l.dropped_attributes_count() + attributes_of(l.attributes(), link.attributes);
    data.links.push_back(std::move(link));
  }
  data.dropped_links_count = s.dropped_links_count();
  int code = static_cast<int>(s.status().code());
  data.status_code = code >= 0 && code <= 2 ? static_cast<StatusCode>(code) : StatusCode::kUnset;
  if (data.status_code == StatusCode::kError) data.status_description = s.status().message();
  return data;
}

}  // namespace

std::optional<std::vector<SpanData>> decode_otlp_protobuf(std::string_view body,
                                                          std::string* error) {
  pb::collector::trace::v1::ExportTraceServiceRequest request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    if (error) *error = "not a valid ExportTraceServiceRequest";
    return std::nullopt;
  }
  std::vector<SpanData> spans;
  try {
    for (const auto& rs : request.resource_spans()) {
      Attributes resource_attributes;
      attributes_of(rs.resource().attributes(), resource_attributes);
      auto resource = std::make_shared<const Resource>(std::move(resource_attributes), rs.schema_url());
      for (const auto& ss : rs.scope_spans()) {
        auto scope = std::make_shared<InstrumentationScope>();
        scope->name = ss.scope().name();
        scope->version = ss.scope().version();
        scope->schema_url = ss.schema_url();
        attributes_of(ss.scope().attributes(), scope->attributes);
        std::shared_ptr<const InstrumentationScope> shared_scope = std::move(scope);
        for (const auto& s : ss.spans()) {
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
  }
  return spans;
}

}  // namespace kiq::otel::sdk
