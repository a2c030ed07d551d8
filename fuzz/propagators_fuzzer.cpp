// Fuzzes the W3C propagator parsers (traceparent, tracestate, baggage) and the composite
// extract path: any input must parse or be rejected without crashing, and whatever is accepted
// must re-serialize to something that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "kiq/otel/propagation.hpp"

using namespace kiq::otel;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto sc = TraceContextPropagator::parse_traceparent(input)) {
    check(sc->valid());
    auto again = TraceContextPropagator::parse_traceparent(TraceContextPropagator::format_traceparent(*sc));
    check(again && again->trace_id() == sc->trace_id() && again->span_id() == sc->span_id());
  }

  if (auto ts = TraceState::parse(input)) {
    check(ts->size() <= TraceState::kMaxMembers);
    auto again = TraceState::parse(ts->to_header());
    check(again && *again == *ts);
  }

  Baggage baggage = BaggagePropagator::parse(input);
  check(baggage.size() <= BaggagePropagator::kMaxMembers);
  std::string header = BaggagePropagator::format(baggage);
  check(header.size() <= BaggagePropagator::kMaxBytes);
  Baggage again = BaggagePropagator::parse(header);
  check(again.size() <= baggage.size());

  // The input split in three as carrier values through the global composite propagator.
  std::size_t a = size / 3, b = 2 * size / 3;
  std::map<std::string, std::string> carrier{{"traceparent", std::string(input.substr(0, a))},
                                             {"tracestate", std::string(input.substr(a, b - a))},
                                             {"baggage", std::string(input.substr(b))}};
  MapCarrier c(carrier);
  Context ctx = global_propagator()->extract(c, Context());
  std::map<std::string, std::string> out;
  MapCarrier o(out);
  global_propagator()->inject(ctx, o);
  return 0;
}
