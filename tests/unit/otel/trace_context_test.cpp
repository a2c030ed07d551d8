#include <gtest/gtest.h>

#include <map>
#include <unordered_map>

#include "kiq/otel/propagation.hpp"

namespace kiq::otel {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

using P = TraceContextPropagator;

TEST(Traceparent, ParsesValid) {
  auto sc = P::parse_traceparent(kValid);
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->trace_id().to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(sc->span_id().to_hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(sc->sampled());
  EXPECT_TRUE(sc->is_remote());
  EXPECT_EQ(P::format_traceparent(*sc), kValid);
}

TEST(Traceparent, NotSampled) {
  auto sc = P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(sc);
  EXPECT_FALSE(sc->sampled());
}

TEST(Traceparent, VersionFfInvalid) {
  EXPECT_FALSE(P::parse_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(Traceparent, BadVersionFormat) {
  EXPECT_FALSE(P::parse_traceparent("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(Traceparent, UppercaseInvalid) {
  EXPECT_FALSE(P::parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(P::parse_traceparent("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
}

TEST(Traceparent, ZeroIdsInvalid) {
  EXPECT_FALSE(P::parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(Traceparent, LengthRules) {
  std::string v = kValid;
  EXPECT_FALSE(P::parse_traceparent(v.substr(0, 54)));
  EXPECT_FALSE(P::parse_traceparent(v + "-"));           // v00 has no trailing fields
  EXPECT_FALSE(P::parse_traceparent(v + "-extra"));
  EXPECT_FALSE(P::parse_traceparent(v + "0"));
  EXPECT_FALSE(P::parse_traceparent(""));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));
}

TEST(Traceparent, BadSeparators) {
  EXPECT_FALSE(P::parse_traceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
  EXPECT_FALSE(P::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
}

TEST(Traceparent, HigherVersion) {
  // Same layout, more fields after '-': accepted, re-emitted as version 00.
  auto sc = P::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like");
  ASSERT_TRUE(sc);
  EXPECT_EQ(P::format_traceparent(*sc), kValid);
  EXPECT_TRUE(P::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // Char 56 must be '-'.
  EXPECT_FALSE(P::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what"));
  // Shorter than 55 is invalid for any version.
  EXPECT_FALSE(P::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));
}

TEST(Traceparent, TrimsSpacesAndTabs) {
  EXPECT_TRUE(P::parse_traceparent(std::string(" \t") + kValid + "\t "));
  EXPECT_FALSE(P::parse_traceparent(std::string("\n") + kValid));
}

TEST(Traceparent, FormatClearsReservedFlags) {
  SpanContext sc(*TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                 *SpanId::from_hex("00f067aa0ba902b7"), TraceFlags(0xff), false);
  EXPECT_EQ(P::format_traceparent(sc), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  EXPECT_EQ(P::format_traceparent(SpanContext()), "");
}

TEST(TraceContextPropagator, ExtractsIntoContext) {
  std::map<std::string, std::string> headers{{"traceparent", kValid},
                                             {"tracestate", "rojo=1,congo=2"}};
  MapCarrier carrier(headers);
  Context ctx = P().extract(carrier, Context());
  const SpanContext& sc = ctx.span_context();
  ASSERT_TRUE(sc.valid());
  EXPECT_TRUE(sc.is_remote());
  EXPECT_EQ(sc.trace_state().to_header(), "rojo=1,congo=2");
  ASSERT_TRUE(ctx.span());
  EXPECT_FALSE(ctx.span()->is_recording());
}

TEST(TraceContextPropagator, ConstMapCarrierExtracts) {
  const std::map<std::string, std::string> headers{{"traceparent", kValid}};
  MapCarrier carrier(headers);
  EXPECT_TRUE(P().extract(carrier, Context()).span_context().valid());
  carrier.set("x", "y");  // ignored
  EXPECT_EQ(headers.size(), 1u);
}

TEST(TraceContextPropagator, InvalidTracestateKeepsTraceparent) {
  std::unordered_map<std::string, std::string> headers{{"traceparent", kValid},
                                                       {"tracestate", "BAD=1"}};
  MapCarrier carrier(headers);
  Context ctx = P().extract(carrier, Context());
  EXPECT_TRUE(ctx.span_context().valid());
  EXPECT_TRUE(ctx.span_context().trace_state().empty());
}

TEST(TraceContextPropagator, InvalidHeaderKeepsExistingContext) {
  std::map<std::string, std::string> good{{"traceparent", kValid}};
  MapCarrier good_carrier(good);
  Context base = P().extract(good_carrier, Context());
  std::map<std::string, std::string> bad{{"traceparent", "garbage"}, {"tracestate", "a=1"}};
  MapCarrier bad_carrier(bad);
  Context out = P().extract(bad_carrier, base);
  EXPECT_EQ(out.span_context(), base.span_context());
}

TEST(TraceContextPropagator, TracestateWithoutTraceparentIgnored) {
  std::map<std::string, std::string> headers{{"tracestate", "a=1"}};
  MapCarrier carrier(headers);
  EXPECT_FALSE(P().extract(carrier, Context()).span_context().valid());
}

// A carrier with repeated keys, like HTTP headers.
class MultiCarrier : public TextMapCarrier {
 public:
  std::multimap<std::string, std::string> values;
  std::optional<std::string_view> get(std::string_view key) const override {
    auto it = values.find(std::string(key));
    if (it == values.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  void set(std::string_view key, std::string_view value) override {
    values.emplace(std::string(key), std::string(value));
  }
  std::vector<std::string_view> get_all(std::string_view key) const override {
    std::vector<std::string_view> out;
    auto [a, b] = values.equal_range(std::string(key));
    for (auto it = a; it != b; ++it) out.emplace_back(it->second);
    return out;
  }
};

TEST(TraceContextPropagator, TwoTraceparentHeadersInvalid) {
  MultiCarrier c;
  c.set("traceparent", kValid);
  c.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b8-01");
  EXPECT_FALSE(P().extract(c, Context()).span_context().valid());
}

TEST(TraceContextPropagator, MultipleTracestateHeadersJoined) {
  MultiCarrier c;
  c.set("traceparent", kValid);
  c.set("tracestate", "a=1");
  c.set("tracestate", "b=2");
  EXPECT_EQ(P().extract(c, Context()).span_context().trace_state().to_header(), "a=1,b=2");
}

TEST(TraceContextPropagator, InjectRoundTrip) {
  SpanContext sc(*TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                 *SpanId::from_hex("00f067aa0ba902b7"), TraceFlags(1), false,
                 *TraceState::parse("k=v"));
  Context ctx = Context().with_span(make_non_recording_span(sc));
  std::map<std::string, std::string> out;
  MapCarrier carrier(out);
  P().inject(ctx, carrier);
  EXPECT_EQ(out["traceparent"], kValid);
  EXPECT_EQ(out["tracestate"], "k=v");
}

TEST(TraceContextPropagator, InjectNothingForInvalidOrEmpty) {
  std::map<std::string, std::string> out;
  MapCarrier carrier(out);
  P().inject(Context(), carrier);
  EXPECT_TRUE(out.empty());
  SpanContext sc(TraceId::random(), SpanId::random(), TraceFlags(1), false);
  P().inject(Context().with_span(make_non_recording_span(sc)), carrier);
  EXPECT_EQ(out.count("tracestate"), 0u);
  EXPECT_EQ(out.count("traceparent"), 1u);
}

TEST(TraceContextPropagator, LongTracestateTruncatedByWholeEntries) {
  TraceState ts;
  ts = ts.set("big", std::string(200, 'x'));  // > 128 chars: removed first
  for (int i = 0; i < 30; ++i) ts = ts.set("k" + std::to_string(i), std::string(20, 'v'));
  SpanContext sc(TraceId::random(), SpanId::random(), TraceFlags(1), false, ts);
  std::map<std::string, std::string> out;
  MapCarrier carrier(out);
  P().inject(Context().with_span(make_non_recording_span(sc)), carrier);
  const std::string& header = out["tracestate"];
  EXPECT_LE(header.size(), 512u);
  EXPECT_EQ(header.find("big="), std::string::npos);
  EXPECT_EQ(header.rfind("k29=", 0), 0u);  // most recent (left-most) entries kept
  auto parsed = TraceState::parse(header);
  ASSERT_TRUE(parsed);
  EXPECT_GT(parsed->size(), 10u);
}

TEST(LambdaCarrier, WorksAsGetterAndSetter) {
  std::map<std::string, std::string> store{{"traceparent", kValid}};
  LambdaCarrier carrier(
      [&](std::string_view k) -> std::optional<std::string_view> {
        auto it = store.find(std::string(k));
        if (it == store.end()) return std::nullopt;
        return std::string_view(it->second);
      },
      [&](std::string_view k, std::string_view v) { store[std::string(k)] = std::string(v); });
  Context ctx = P().extract(carrier, Context());
  ASSERT_TRUE(ctx.span_context().valid());
  store.clear();
  P().inject(ctx, carrier);
  EXPECT_EQ(store["traceparent"], kValid);
}

TEST(Propagators, MakeFromList) {
  auto p = make_propagator("tracecontext,baggage");
  auto fields = p->fields();
  EXPECT_EQ(fields, (std::vector<std::string>{"traceparent", "tracestate", "baggage"}));
  EXPECT_EQ(make_propagator(" Baggage , tracecontext,baggage ")->fields(),
            (std::vector<std::string>{"baggage", "traceparent", "tracestate"}));
  EXPECT_TRUE(make_propagator("none")->fields().empty());
  EXPECT_EQ(make_propagator("b3,tracecontext")->fields(),
            (std::vector<std::string>{"traceparent", "tracestate"}));
  EXPECT_EQ(make_propagator("")->fields().size(), 3u);
}

TEST(Propagators, GlobalDefaultAndSet) {
  EXPECT_EQ(global_propagator()->fields().size(), 3u);
  set_global_propagator(make_propagator("none"));
  EXPECT_TRUE(global_propagator()->fields().empty());
  set_global_propagator(nullptr);
  EXPECT_EQ(global_propagator()->fields().size(), 3u);
}

TEST(Propagators, CompositeExtractsBoth) {
  std::map<std::string, std::string> headers{{"traceparent", kValid}, {"baggage", "user=alice"}};
  MapCarrier carrier(headers);
  Context ctx = global_propagator()->extract(carrier, Context());
  EXPECT_TRUE(ctx.span_context().valid());
  EXPECT_EQ(ctx.baggage().get("user"), "alice");
  std::map<std::string, std::string> out;
  MapCarrier out_carrier(out);
  global_propagator()->inject(ctx, out_carrier);
  EXPECT_EQ(out["traceparent"], kValid);
  EXPECT_EQ(out["baggage"], "user=alice");
}

}  // namespace
}  // namespace kiq::otel
