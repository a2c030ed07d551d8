#include <gtest/gtest.h>

#include "kiq/otel/sdk/sampler.hpp"
#include "test_util.hpp"

namespace kiq::otel::sdk {
namespace {

using testing::ScopedEnv;

SamplingDecision decide(const Sampler& s, const SpanContext& parent,
                        const TraceId& id = TraceId::random()) {
  return s.should_sample(parent, id, "x", SpanKind::kInternal, {}, {}).decision;
}

SpanContext parent(bool remote, bool sampled) {
  return SpanContext(TraceId::random(), SpanId::random(), TraceFlags(sampled ? 1 : 0), remote);
}

TraceId id_with_low(std::uint64_t low) {
  std::array<std::uint8_t, 16> b{};
  b[0] = 1;
  for (int i = 0; i < 8; ++i) b[15 - i] = static_cast<std::uint8_t>(low >> (8 * i));
  return TraceId(b);
}

TEST(Sampler, AlwaysOnOff) {
  EXPECT_EQ(decide(AlwaysOnSampler(), {}), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(AlwaysOffSampler(), {}), SamplingDecision::kDrop);
  EXPECT_EQ(AlwaysOnSampler().description(), "AlwaysOnSampler");
  EXPECT_EQ(AlwaysOffSampler().description(), "AlwaysOffSampler");
}

TEST(Sampler, RatioDescription) {
  EXPECT_EQ(TraceIdRatioBasedSampler(0.0001).description(), "TraceIdRatioBased{0.000100}");
  EXPECT_EQ(TraceIdRatioBasedSampler(0.5).description(), "TraceIdRatioBased{0.500000}");
}

TEST(Sampler, RatioUsesLowBytesBigEndian) {
  TraceIdRatioBasedSampler half(0.5);
  EXPECT_EQ(decide(half, {}, id_with_low(0)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(half, {}, id_with_low(0x7fffffffffffffffULL)),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(half, {}, id_with_low(0x8000000000000000ULL)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(TraceIdRatioBasedSampler(0.0), {}, id_with_low(0)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(TraceIdRatioBasedSampler(1.0), {}, id_with_low(~0ULL)),
            SamplingDecision::kRecordAndSample);
}

TEST(Sampler, RatioIgnoresParent) {
  TraceIdRatioBasedSampler none(0.0);
  EXPECT_EQ(decide(none, parent(true, true)), SamplingDecision::kDrop);
}

TEST(Sampler, RatioMonotonic) {
  const double ratios[] = {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.99, 1.0};
  int previous = -1;
  std::vector<TraceId> ids;
  for (int i = 0; i < 2000; ++i) ids.push_back(TraceId::random());
  std::vector<bool> prev_sampled(ids.size(), false);
  for (double r : ratios) {
    TraceIdRatioBasedSampler s(r);
    int count = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      bool sampled = decide(s, {}, ids[i]) == SamplingDecision::kRecordAndSample;
      if (prev_sampled[i]) EXPECT_TRUE(sampled) << "ratio " << r << " not a superset";
      prev_sampled[i] = sampled;
      count += sampled;
    }
    EXPECT_GE(count, previous);
    previous = count;
  }
  EXPECT_EQ(previous, 2000);
}

TEST(Sampler, ParentBasedTable) {
  auto on = std::make_shared<AlwaysOnSampler>();
  auto off = std::make_shared<AlwaysOffSampler>();
  ParentBasedSampler defaults(on);
  EXPECT_EQ(decide(defaults, {}), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(defaults, parent(true, true)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(defaults, parent(true, false)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(defaults, parent(false, true)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(defaults, parent(false, false)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(ParentBasedSampler(off), {}), SamplingDecision::kDrop);

  // Every delegate inverted: each row must reach its own delegate.
  ParentBasedSampler inverted(off, {.remote_parent_sampled = off,
                                    .remote_parent_not_sampled = on,
                                    .local_parent_sampled = off,
                                    .local_parent_not_sampled = on});
  EXPECT_EQ(decide(inverted, {}), SamplingDecision::kDrop);
  EXPECT_EQ(decide(inverted, parent(true, true)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(inverted, parent(true, false)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(decide(inverted, parent(false, true)), SamplingDecision::kDrop);
  EXPECT_EQ(decide(inverted, parent(false, false)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(defaults.description(),
            "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,"
            "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,"
            "localParentNotSampled:AlwaysOffSampler}");
}

TEST(Sampler, FromEnvironment) {
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", std::nullopt);
    EXPECT_EQ(sampler_from_environment()->description().rfind("ParentBased{root:AlwaysOn", 0), 0u);
  }
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", "always_off");
    EXPECT_EQ(sampler_from_environment()->description(), "AlwaysOffSampler");
  }
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", "TraceIdRatio");
    ScopedEnv a("OTEL_TRACES_SAMPLER_ARG", "0.25");
    EXPECT_EQ(sampler_from_environment()->description(), "TraceIdRatioBased{0.250000}");
  }
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
    ScopedEnv a("OTEL_TRACES_SAMPLER_ARG", "2.5");  // invalid -> 1.0
    EXPECT_EQ(sampler_from_environment()->description().rfind(
                  "ParentBased{root:TraceIdRatioBased{1.000000}", 0),
              0u);
  }
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", "traceidratio");
    ScopedEnv a("OTEL_TRACES_SAMPLER_ARG", "abc");
    EXPECT_EQ(sampler_from_environment()->description(), "TraceIdRatioBased{1.000000}");
  }
  {
    ScopedEnv s("OTEL_TRACES_SAMPLER", "jaeger_remote");
    EXPECT_EQ(sampler_from_environment()->description().rfind("ParentBased{root:AlwaysOn", 0), 0u);
  }
}

}  // namespace
}  // namespace kiq::otel::sdk
