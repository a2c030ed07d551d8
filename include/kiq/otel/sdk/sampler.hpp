// Samplers (spec "Sampling"): decide at span start whether a span records and is exported.
//
// Thread-safety: samplers are immutable after construction; should_sample() is called
// concurrently from every thread that starts spans.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/attributes.hpp"
#include "kiq/otel/span.hpp"
#include "kiq/otel/span_context.hpp"

namespace kiq::otel::sdk {

enum class SamplingDecision { kDrop, kRecordOnly, kRecordAndSample };

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  Attributes attributes;                  // added to the span
  std::optional<TraceState> trace_state;  // nullopt: keep the parent's tracestate
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // `parent` is the parent's span context (invalid for a root span).
  virtual SamplingResult should_sample(const SpanContext& parent, const TraceId& trace_id,
                                       std::string_view name, SpanKind kind,
                                       const Attributes& attributes,
                                       const std::vector<Link>& links) const = 0;
  virtual std::string description() const = 0;
};
using SamplerPtr = std::shared_ptr<const Sampler>;

class AlwaysOnSampler final : public Sampler {
 public:
  SamplingResult should_sample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                               const Attributes&, const std::vector<Link>&) const override {
    return {SamplingDecision::kRecordAndSample, {}, std::nullopt};
  }
  std::string description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler final : public Sampler {
 public:
  SamplingResult should_sample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                               const Attributes&, const std::vector<Link>&) const override {
    return {SamplingDecision::kDrop, {}, std::nullopt};
  }
  std::string description() const override { return "AlwaysOffSampler"; }
};

// Samples iff trace id bytes 8..15 (big-endian) < ceil(ratio * (2^64-1)); ratio is clamped to
// [0,1]. Ignores the parent. Higher ratios sample a superset of lower ones.
class TraceIdRatioBasedSampler final : public Sampler {
 public:
  explicit TraceIdRatioBasedSampler(double ratio);
  SamplingResult should_sample(const SpanContext& parent, const TraceId& trace_id,
                               std::string_view name, SpanKind kind, const Attributes& attributes,
                               const std::vector<Link>& links) const override;
  std::string description() const override;  // "TraceIdRatioBased{0.000100}"
  std::uint64_t threshold() const { return threshold_; }

 private:
  double ratio_;
  std::uint64_t threshold_;
  bool always_ = false;  // ratio == 1
};

// Delegates by parent (spec table): no/invalid parent -> root; remote sampled / not sampled;
// local sampled / not sampled. Null delegates take the spec defaults.
struct ParentBasedOptions {
  SamplerPtr remote_parent_sampled;      // default AlwaysOn
  SamplerPtr remote_parent_not_sampled;  // default AlwaysOff
  SamplerPtr local_parent_sampled;       // default AlwaysOn
  SamplerPtr local_parent_not_sampled;   // default AlwaysOff
};

class ParentBasedSampler final : public Sampler {
 public:
  explicit ParentBasedSampler(SamplerPtr root, ParentBasedOptions options = {});
  SamplingResult should_sample(const SpanContext& parent, const TraceId& trace_id,
                               std::string_view name, SpanKind kind, const Attributes& attributes,
                               const std::vector<Link>& links) const override;
  // "ParentBased{root:..,remoteParentSampled:..,remoteParentNotSampled:..,
  //  localParentSampled:..,localParentNotSampled:..}"
  std::string description() const override;

 private:
  SamplerPtr root_, remote_sampled_, remote_not_sampled_, local_sampled_, local_not_sampled_;
};

// OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG: always_on, always_off, traceidratio,
// parentbased_always_on (default), parentbased_always_off, parentbased_traceidratio. Unknown or
// unsupported names and invalid ratios are warned about and replaced by the defaults.
SamplerPtr sampler_from_environment();
// The spec default: ParentBased(root=AlwaysOn).
SamplerPtr default_sampler();

}  // namespace kiq::otel::sdk
