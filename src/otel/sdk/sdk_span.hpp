// The SDK's recording span. Holds the SpanData under construction; end() moves it to the
// processors.
//
// Thread-safety: every mutation takes a spin lock; context() is immutable.
#pragma once

#include <atomic>

#include "kiq/otel/tracer.hpp"
#include "otel/internal/spin_lock.hpp"
#include "otel/sdk/provider_state.hpp"

namespace kiq::otel::sdk {

class SdkSpan final : public Span {
 public:
  // `scope` must be an element of shared->scopes (it lives as long as *shared).
  SdkSpan(std::shared_ptr<const TracerProvider::Shared> shared,
          const std::shared_ptr<const InstrumentationScope>& scope, SpanContext&& context,
          const SpanContext& parent, std::string_view name, StartSpanOptions& options,
          Attributes&& sampler_attributes);

  void add_event(std::string_view name, Attributes attributes,
                 std::optional<Timestamp> timestamp) override;
  void add_link(const SpanContext& context, Attributes attributes) override;
  void set_status(StatusCode code, std::string_view description) override;
  void update_name(std::string_view name) override;
  void end(std::optional<Timestamp> end_time) override;
  bool is_recording() const override { return !ended_.load(std::memory_order_acquire); }
  const SpanContext& context() const override { return context_; }

 protected:
  void do_set_attribute(std::string_view key, AttributeValue value) override;

 private:
  void add_link_locked(const SpanContext& context, Attributes attributes);

  const std::shared_ptr<const TracerProvider::Shared> shared_;
  const std::shared_ptr<const InstrumentationScope>& scope_;  // kept alive by shared_
  const SpanContext context_;
  internal::SpinLock mu_;
  std::atomic<bool> ended_{false};
  SpanData data_;  // guarded by mu_ until ended_, then moved out; resource/scope set at end
};

}  // namespace kiq::otel::sdk
