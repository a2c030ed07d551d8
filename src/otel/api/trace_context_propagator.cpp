#include <string>

#include "kiq/otel/propagation.hpp"
#include "otel/internal/hex.hpp"
#include "otel/internal/text.hpp"

namespace kiq::otel {
namespace {

constexpr std::size_t kTraceparentSize = 55;  // "00-" + 32 + "-" + 16 + "-" + 2
constexpr char kTraceparent[] = "traceparent";
constexpr char kTracestate[] = "tracestate";

// Flag bits kiq emits: sampled and (Level 2) random; the rest are reserved and cleared.
constexpr std::uint8_t kKnownFlags = TraceFlags::kSampled | TraceFlags::kRandom;

// W3C: vendors must propagate at least 512 chars of tracestate. Longer lists are cut by
// removing whole entries, first those longer than 128 chars, then from the right.
constexpr std::size_t kMaxTracestateChars = 512;
constexpr std::size_t kLongMemberChars = 128;

std::string tracestate_header(const TraceState& state) {
  std::string full = state.to_header();
  if (full.size() <= kMaxTracestateChars) return full;
  std::vector<std::string> members;
  std::size_t total = 0;
  for (const auto& [k, v] : state.members()) {
    std::string m = k + "=" + v;
    if (m.size() > kLongMemberChars) continue;
    total += m.size() + (members.empty() ? 0 : 1);
    members.push_back(std::move(m));
  }
  while (total > kMaxTracestateChars && !members.empty()) {
    total -= members.back().size() + (members.size() > 1 ? 1 : 0);
    members.pop_back();
  }
  std::string out;
  for (const auto& m : members) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

}  // namespace

std::optional<SpanContext> TraceContextPropagator::parse_traceparent(std::string_view value) {
  value = internal::trim_ows(value);
  if (value.size() < kTraceparentSize) return std::nullopt;
  std::uint8_t version;
  if (!internal::decode_lower_hex(value.substr(0, 2), &version, 1) || version == 0xff) {
    return std::nullopt;
  }
  // Version 00 has exactly 55 chars; a higher version may append fields after a '-'.
  if (version == 0 && value.size() != kTraceparentSize) return std::nullopt;
  if (value.size() > kTraceparentSize && value[kTraceparentSize] != '-') return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  auto trace_id = TraceId::from_hex(value.substr(3, 32));
  auto span_id = SpanId::from_hex(value.substr(36, 16));
  std::uint8_t flags;
  if (!trace_id || !span_id || !internal::decode_lower_hex(value.substr(53, 2), &flags, 1)) {
    return std::nullopt;
  }
  if (!trace_id->valid() || !span_id->valid()) return std::nullopt;
  return SpanContext(*trace_id, *span_id, TraceFlags(flags), /*is_remote=*/true);
}

std::string TraceContextPropagator::format_traceparent(const SpanContext& context) {
  if (!context.valid()) return {};
  std::string out(kTraceparentSize, '-');
  out[0] = '0';
  out[1] = '0';
  context.trace_id().write_hex(&out[3]);
  context.span_id().write_hex(&out[36]);
  std::uint8_t flags = context.trace_flags().value() & kKnownFlags;
  internal::encode_lower_hex(&flags, 1, &out[53]);
  return out;
}

void TraceContextPropagator::inject(const Context& context, TextMapCarrier& carrier) const {
  const SpanContext& sc = context.span_context();
  if (!sc.valid()) return;
  carrier.set(kTraceparent, format_traceparent(sc));
  if (!sc.trace_state().empty()) {
    std::string header = tracestate_header(sc.trace_state());
    if (!header.empty()) carrier.set(kTracestate, header);
  }
}

Context TraceContextPropagator::extract(const TextMapCarrier& carrier,
                                        const Context& context) const {
  std::optional<std::string_view> parent;
  if (carrier.single_valued()) {
    parent = carrier.get(kTraceparent);
  } else if (auto parents = carrier.get_all(kTraceparent); parents.size() == 1) {
    parent = parents.front();
  }  // else none, or ambiguous duplicates
  if (!parent) return context;
  auto sc = parse_traceparent(*parent);
  if (!sc) return context;
  // Several tracestate headers are one list joined with ','. Invalid -> empty, parent kept.
  TraceState state;
  if (carrier.single_valued()) {
    if (auto v = carrier.get(kTracestate); v && !v->empty()) {
      if (auto parsed = TraceState::parse(*v)) state = std::move(*parsed);
    }
  } else {
    std::string joined;
    for (auto v : carrier.get_all(kTracestate)) {
      if (!joined.empty()) joined += ',';
      joined += v;
    }
    if (!joined.empty()) {
      if (auto parsed = TraceState::parse(joined)) state = std::move(*parsed);
    }
  }
  SpanContext remote(sc->trace_id(), sc->span_id(), sc->trace_flags(), true, std::move(state));
  return context.with_span(make_non_recording_span(remote));
}

}  // namespace kiq::otel
