// The SDK's recording span. Fills a SpanData under construction; end() hands it to the
// processors.
//
// The SpanData lives in a SpanRecord taken from a per-thread pool and given back when the span
// object is destroyed. A record keeps its buffers between spans: its name string, and its
// attribute list WITH the keys and values of an earlier span, overwritten in place (spans from
// the same code set the same keys in the same order, so a key usually needs no copy at all).
// The batch processor swaps a finished span's data with an exported one instead of destroying
// either, so the exported span's buffers come back to the record.
// Events and links vectors keep their capacity too (their entries are destroyed when the span
// object goes, so a pooled record holds no event or link data), and the options given at start
// are copied into these buffers, not moved: a caller that reuses its StartSpanOptions and a
// record that reuses its strings together start a span without allocating.
// Memory: a thread pools up to 64 records; a pooled record keeps at most 32 attribute entries
// (keys and values of an earlier span), room for 8 events and 4 links (empty), and no
// resource or scope.
//
// Thread-safety: every mutation takes a spin lock; context() is immutable.
#pragma once

#include <atomic>
#include <cstdint>

#include "kiq/otel/tracer.hpp"
#include "otel/internal/recycling.hpp"
#include "otel/internal/spin_lock.hpp"
#include "otel/sdk/provider_state.hpp"

namespace kiq::otel::sdk {

// A span's SpanData with its pool link. Owned by one SdkSpan at a time (or by a pool).
struct SpanRecord {
  SpanData data;
  // How many leading entries of data.attributes are known to have pairwise distinct keys (the
  // list of the span that last used the record, when it came back unchanged).
  std::size_t distinct_keys = 0;
  SpanRecord* pool_next = nullptr;  // ObjectPool link
};
using SpanRecordPool = internal::ObjectPool<SpanRecord, 64>;

class SdkSpan final : public Span {
 public:
  // `scope` must be an element of shared->scopes (it lives as long as *shared).
  SdkSpan(std::shared_ptr<const TracerProvider::Shared> shared,
          const std::shared_ptr<const InstrumentationScope>& scope, SpanContext&& context,
          const SpanContext& parent, std::string_view name, const StartSpanOptions* options,
          Attributes&& sampler_attributes);  // options null: the defaults; only read
  ~SdkSpan() override;

  void add_event(std::string_view name, Attributes attributes,
                 std::optional<Timestamp> timestamp) override;
  void add_link(const SpanContext& context, Attributes attributes) override;
  void set_status(StatusCode code, std::string_view description) override;
  void update_name(std::string_view name) override;
  bool is_recording() const override { return !ended_.load(std::memory_order_acquire); }
  const SpanContext& context() const override { return context_; }

 protected:
  void do_end(const std::optional<Timestamp>& end_time) override;
  void do_set_attribute(std::string_view key, AttributeValue value) override;
  void do_set_bool_attribute(std::string_view key, bool v) override;
  void do_set_int_attribute(std::string_view key, std::int64_t v) override;
  void do_set_double_attribute(std::string_view key, double v) override;
  void do_set_string_attribute(std::string_view key, std::string_view v) override;

 private:
  // Locks, then puts `key` with write(AttributeValue&) storing the value (see sdk_span.cpp).
  template <class Write>
  void set_attribute_with(std::string_view key, Write&& write);
  void add_link_locked(const SpanContext& context, const Attributes& attributes);

  const std::shared_ptr<const TracerProvider::Shared> shared_;
  const std::shared_ptr<const InstrumentationScope>& scope_;  // kept alive by shared_
  const SpanContext context_;
  internal::SpinLock mu_;
  std::atomic<bool> ended_{false};
  // The first attribute_count_ entries of data_.attributes are this span's; entries after them
  // are left over from an earlier span (reused by the next set, cut off at end()).
  std::uint32_t attribute_count_ = 0;  // guarded by mu_
  const SpanRecordPool::Ptr record_;
  SpanData& data_;  // record_->data; guarded by mu_ until ended_, then handed to processors
};

}  // namespace kiq::otel::sdk
