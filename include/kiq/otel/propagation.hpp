// Context propagation over string key/value carriers (OpenTelemetry TextMapPropagator):
// W3C TraceContext (traceparent/tracestate), W3C Baggage, composites, and the global propagator.
//
// Contracts: extract() never throws and never replaces a valid context with garbage: on bad
// input it returns the given context unchanged (for that propagator's part). inject() writes
// nothing for an invalid span context / empty baggage.
//
// Thread-safety: propagators are immutable and thread-safe. Carriers are not (use one per call).
// The global propagator (get/set) is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "kiq/otel/baggage.hpp"
#include "kiq/otel/context.hpp"
#include "kiq/otel/span_context.hpp"

namespace kiq::otel {

// Getter/setter over one message's string keys (an HTTP header map, a job hash, ...).
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  // The value of `key`, or nullopt. The view must stay valid until the carrier is modified.
  virtual std::optional<std::string_view> get(std::string_view key) const = 0;
  virtual void set(std::string_view key, std::string_view value) = 0;
  // All values of `key` for carriers that allow repeated keys (HTTP headers). Default: get().
  virtual std::vector<std::string_view> get_all(std::string_view key) const {
    auto v = get(key);
    if (!v) return {};
    return {*v};
  }
  // True when a key has at most one value (get_all() is the default: a map, a job hash), so
  // propagators read with get() alone and build no vector. Default: false (consult get_all).
  virtual bool single_valued() const { return false; }
};

// Adapter for std::map / std::unordered_map<std::string, std::string> (or compatible). A const
// map gives an extract-only carrier (set() does nothing).
template <class Map>
class MapCarrier final : public TextMapCarrier {
 public:
  explicit MapCarrier(Map& map) : map_(map) {}
  std::optional<std::string_view> get(std::string_view key) const override {
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  void set(std::string_view key, std::string_view value) override {
    if constexpr (!std::is_const_v<Map>) map_[std::string(key)] = std::string(value);
  }
  bool single_valued() const override { return true; }

 private:
  Map& map_;
};
template <class Map>
MapCarrier(Map&) -> MapCarrier<Map>;

// Adapter from a getter and a setter (e.g. over a nlohmann::json object). A null setter makes
// set() a no-op (extract-only carrier).
class LambdaCarrier final : public TextMapCarrier {
 public:
  using Getter = std::function<std::optional<std::string_view>(std::string_view key)>;
  using Setter = std::function<void(std::string_view key, std::string_view value)>;
  LambdaCarrier(Getter getter, Setter setter = nullptr)
      : getter_(std::move(getter)), setter_(std::move(setter)) {}
  std::optional<std::string_view> get(std::string_view key) const override {
    return getter_ ? getter_(key) : std::nullopt;
  }
  void set(std::string_view key, std::string_view value) override {
    if (setter_) setter_(key, value);
  }
  bool single_valued() const override { return true; }

 private:
  Getter getter_;
  Setter setter_;
};

class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  virtual void inject(const Context& context, TextMapCarrier& carrier) const = 0;
  // Returns `context` updated with what the carrier holds.
  virtual Context extract(const TextMapCarrier& carrier, const Context& context) const = 0;
  // The keys this propagator reads/writes.
  virtual std::vector<std::string> fields() const = 0;

  // Conveniences on the calling thread's current context.
  void inject(TextMapCarrier& carrier) const { inject(current_context(), carrier); }
  Context extract(const TextMapCarrier& carrier) const {
    return extract(carrier, current_context());
  }
};
using PropagatorPtr = std::shared_ptr<const TextMapPropagator>;

// W3C Trace Context Level 1/2: `traceparent` and `tracestate`. Extracted contexts are remote
// (the span in the returned Context is a non-recording span carrying them).
class TraceContextPropagator final : public TextMapPropagator {
 public:
  void inject(const Context& context, TextMapCarrier& carrier) const override;
  Context extract(const TextMapCarrier& carrier, const Context& context) const override;
  std::vector<std::string> fields() const override { return {"traceparent", "tracestate"}; }

  // traceparent value -> SpanContext (remote, empty tracestate), nullopt when invalid.
  // Trims spaces/tabs; accepts higher versions per the spec (first 55 chars, then '-').
  static std::optional<SpanContext> parse_traceparent(std::string_view value);
  // "00-<trace>-<span>-<flags>"; reserved flag bits are cleared. Empty for invalid contexts.
  static std::string format_traceparent(const SpanContext& context);
};

// W3C Baggage: the `baggage` header. Limits: at most 180 members and 8192 bytes are read or
// written (further members dropped); invalid members are skipped, the rest kept.
class BaggagePropagator final : public TextMapPropagator {
 public:
  static constexpr std::size_t kMaxMembers = 180;
  static constexpr std::size_t kMaxBytes = 8192;

  void inject(const Context& context, TextMapCarrier& carrier) const override;
  Context extract(const TextMapCarrier& carrier, const Context& context) const override;
  std::vector<std::string> fields() const override { return {"baggage"}; }

  // Header value -> Baggage added onto `base` (header entries win). Never throws.
  static Baggage parse(std::string_view header, const Baggage& base = {});
  // Baggage -> header value (values percent-encoded; metadata appended after ';').
  static std::string format(const Baggage& baggage);
};

// Runs each propagator in order (inject and extract).
class CompositePropagator final : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<PropagatorPtr> propagators);
  void inject(const Context& context, TextMapCarrier& carrier) const override;
  Context extract(const TextMapCarrier& carrier, const Context& context) const override;
  std::vector<std::string> fields() const override;
  std::size_t size() const { return propagators_.size(); }

 private:
  std::vector<PropagatorPtr> propagators_;
};

// From an OTEL_PROPAGATORS-style list, e.g. "tracecontext,baggage" (case-insensitive, trimmed,
// duplicates ignored). "none" -> a propagator that does nothing. Unknown names are warned
// about and skipped. An empty string gives the default "tracecontext,baggage".
PropagatorPtr make_propagator(std::string_view list);

// The global propagator (default: tracecontext,baggage). set with nullptr restores the default.
// Thread-safe; reads are cheap (a thread-local copy refreshed only after a set, like
// tracer_provider()).
PropagatorPtr global_propagator();
void set_global_propagator(PropagatorPtr propagator);
// Bumped by every set_global_propagator(); lets callers cache the propagator and refresh it only
// when this changes. Never 0.
std::uint64_t global_propagator_generation() noexcept;

}  // namespace kiq::otel
