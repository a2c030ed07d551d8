#include "kiq/otel/sdk/sampler.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "kiq/otel/sdk/env.hpp"
#include "otel/internal/log.hpp"

namespace kiq::otel::sdk {
namespace {

std::uint64_t low_bytes_big_endian(const TraceId& id) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i < TraceId::kSize; ++i) v = v << 8 | id.bytes()[i];
  return v;
}

SamplerPtr always_on() {
  static const SamplerPtr s = std::make_shared<AlwaysOnSampler>();
  return s;
}
SamplerPtr always_off() {
  static const SamplerPtr s = std::make_shared<AlwaysOffSampler>();
  return s;
}

}  // namespace

TraceIdRatioBasedSampler::TraceIdRatioBasedSampler(double ratio) {
  if (!(ratio >= 0.0)) ratio = 0.0;  // also catches NaN
  ratio_ = std::min(ratio, 1.0);
  // threshold = ceil(ratio * (2^64-1)); the product is computed in long double to keep the
  // low bits meaningful for small ratios, and saturates at 2^64-1.
  long double t = std::ceil(static_cast<long double>(ratio_) * 18446744073709551615.0L);
  always_ = ratio_ >= 1.0;
  threshold_ = t >= 18446744073709551615.0L ? UINT64_MAX : static_cast<std::uint64_t>(t);
}

SamplingResult TraceIdRatioBasedSampler::should_sample(const SpanContext&, const TraceId& trace_id,
                                                       std::string_view, SpanKind,
                                                       const Attributes&,
                                                       const std::vector<Link>&) const {
  bool sample = always_ || low_bytes_big_endian(trace_id) < threshold_;
  return {sample ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, {},
          std::nullopt};
}

std::string TraceIdRatioBasedSampler::description() const {
  return fmt::format("TraceIdRatioBased{{{:.6f}}}", ratio_);
}

ParentBasedSampler::ParentBasedSampler(SamplerPtr root, ParentBasedOptions o)
    : root_(root ? std::move(root) : always_on()),
      remote_sampled_(o.remote_parent_sampled ? o.remote_parent_sampled : always_on()),
      remote_not_sampled_(o.remote_parent_not_sampled ? o.remote_parent_not_sampled
                                                      : always_off()),
      local_sampled_(o.local_parent_sampled ? o.local_parent_sampled : always_on()),
      local_not_sampled_(o.local_parent_not_sampled ? o.local_parent_not_sampled
                                                    : always_off()) {}

SamplingResult ParentBasedSampler::should_sample(const SpanContext& parent,
                                                 const TraceId& trace_id, std::string_view name,
                                                 SpanKind kind, const Attributes& attributes,
                                                 const std::vector<Link>& links) const {
  const Sampler* delegate;
  if (!parent.valid()) {
    delegate = root_.get();
  } else if (parent.is_remote()) {
    delegate = parent.sampled() ? remote_sampled_.get() : remote_not_sampled_.get();
  } else {
    delegate = parent.sampled() ? local_sampled_.get() : local_not_sampled_.get();
  }
  return delegate->should_sample(parent, trace_id, name, kind, attributes, links);
}

std::string ParentBasedSampler::description() const {
  return fmt::format(
      "ParentBased{{root:{},remoteParentSampled:{},remoteParentNotSampled:{},"
      "localParentSampled:{},localParentNotSampled:{}}}",
      root_->description(), remote_sampled_->description(), remote_not_sampled_->description(),
      local_sampled_->description(), local_not_sampled_->description());
}

SamplerPtr default_sampler() {
  static const SamplerPtr s = std::make_shared<ParentBasedSampler>(always_on());
  return s;
}

SamplerPtr sampler_from_environment() {
  auto name = env_string("OTEL_TRACES_SAMPLER");
  if (!name) return default_sampler();
  std::string n = *name;
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto ratio = [] {
    auto r = env_double("OTEL_TRACES_SAMPLER_ARG");
    if (r && *r >= 0.0 && *r <= 1.0) return *r;
    if (r) internal::warn("OTEL_TRACES_SAMPLER_ARG: {} is not in [0,1], using 1.0", *r);
    return 1.0;
  };
  if (n == "always_on") return always_on();
  if (n == "always_off") return always_off();
  if (n == "traceidratio") return std::make_shared<TraceIdRatioBasedSampler>(ratio());
  if (n == "parentbased_always_on") return default_sampler();
  if (n == "parentbased_always_off") return std::make_shared<ParentBasedSampler>(always_off());
  if (n == "parentbased_traceidratio") {
    return std::make_shared<ParentBasedSampler>(
        std::make_shared<TraceIdRatioBasedSampler>(ratio()));
  }
  internal::warn("OTEL_TRACES_SAMPLER: unsupported sampler '{}', using parentbased_always_on",
                 *name);
  return default_sampler();
}

}  // namespace kiq::otel::sdk
