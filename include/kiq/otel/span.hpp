// Span: the handle user code records onto (OpenTelemetry trace API).
//
// Spans are held by std::shared_ptr<Span>. A recording span comes from an SDK tracer; a
// non-recording span (no SDK installed, sampled out, or a remote parent extracted by a
// propagator) only carries a SpanContext and ignores every mutation at the cost of a virtual call.
//
// Contracts (spec "Span"): after end() every mutation is ignored and end() again is a no-op;
// set_status follows the spec precedence (Ok is final, Unset is ignored, the description is kept
// only with Error); setting an existing attribute key replaces its value.
//
// Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/attributes.hpp"
#include "kiq/otel/span_context.hpp"
#include "kiq/otel/span_kind.hpp"

namespace kiq::otel {

// Wall-clock time of span starts/ends/events (nanosecond resolution on Linux).
using Timestamp = std::chrono::system_clock::time_point;

// Nanoseconds since the Unix epoch, as used by SpanData / OTLP.
inline std::uint64_t to_unix_nanos(Timestamp t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
// "now": CLOCK_REALTIME, interpolated per thread with the CPU's invariant TSC between readings
// of the real clock at most 10 ms apart (see src/otel/api/clock.cpp); never goes back on a
// thread except for real clock steps of 1 ms or more.
std::uint64_t now_unix_nanos();

// A link to another span, given when starting a span or added later.
struct Link {
  SpanContext context;
  Attributes attributes;
};

class Span {
 public:
  Span() = default;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  virtual ~Span() = default;

  // Attributes. Overloads make `set_attribute("user.id", 42)` (int64) and
  // `set_attribute("x", "literal")` (string) work; any integer becomes int64. Scalars and
  // string views reach the span without an AttributeValue (or std::string) temporary.
  void set_attribute(std::string_view key, AttributeValue value) {
    do_set_attribute(key, std::move(value));
  }
  void set_attribute(std::string_view key, bool v) { do_set_bool_attribute(key, v); }
  void set_attribute(std::string_view key, double v) { do_set_double_attribute(key, v); }
  void set_attribute(std::string_view key, const char* v) {  // null: the empty string
    do_set_string_attribute(key, v ? std::string_view(v) : std::string_view());
  }
  void set_attribute(std::string_view key, std::string_view v) {
    do_set_string_attribute(key, v);
  }
  // A moved-in string keeps its buffer (no copy).
  static_assert(std::is_same_v<std::variant_alternative_t<3, AttributeValue>, std::string>);
  void set_attribute(std::string_view key, std::string v) {
    do_set_attribute(key, AttributeValue(std::in_place_index<3>, std::move(v)));
  }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void set_attribute(std::string_view key, T v) {
    do_set_int_attribute(key, static_cast<std::int64_t>(v));
  }
  void set_attributes(Attributes attributes) {
    for (auto& a : attributes) do_set_attribute(a.key, std::move(a.value));
  }

  // Event with the given attributes, at `timestamp` or now.
  virtual void add_event(std::string_view name, Attributes attributes = {},
                         std::optional<Timestamp> timestamp = std::nullopt) = 0;
  virtual void add_link(const SpanContext& context, Attributes attributes = {}) = 0;
  virtual void set_status(StatusCode code, std::string_view description = {}) = 0;
  virtual void update_name(std::string_view name) = 0;
  // Ends the span at `end_time` or now; idempotent.
  void end(std::optional<Timestamp> end_time = std::nullopt) { do_end(end_time); }
  virtual bool is_recording() const = 0;
  // Immutable for the span's life; safe to keep the reference while the span is alive.
  virtual const SpanContext& context() const = 0;

  // Adds the `exception` event: exception.type (demangled C++ type), exception.message
  // (what()), exception.stacktrace (short symbolized backtrace of the recording point, when
  // available), then `extra`. Costs nothing on a non-recording span.
  void record_exception(const std::exception& e, Attributes extra = {});
  // Same for std::current_exception(); for catch (...) blocks. Unknown types get
  // exception.type from the ABI and no message.
  void record_current_exception(Attributes extra = {});

 protected:
  // end(). The optional comes by reference: passed by value, every end() paid a
  // store-forwarding stall (its flag byte was stored, then reloaded as a whole register).
  virtual void do_end(const std::optional<Timestamp>& end_time) = 0;
  virtual void do_set_attribute(std::string_view key, AttributeValue value) = 0;
  // Typed entry points of set_attribute; by default they build an AttributeValue. A span
  // overrides them to store the value without one (they are the hot calls).
  virtual void do_set_bool_attribute(std::string_view key, bool v) {
    do_set_attribute(key, AttributeValue(v));
  }
  virtual void do_set_int_attribute(std::string_view key, std::int64_t v) {
    do_set_attribute(key, AttributeValue(v));
  }
  virtual void do_set_double_attribute(std::string_view key, double v) {
    do_set_attribute(key, AttributeValue(v));
  }
  virtual void do_set_string_attribute(std::string_view key, std::string_view v) {
    do_set_attribute(key, AttributeValue(std::in_place_index<3>, v));
  }
};

using SpanPtr = std::shared_ptr<Span>;

// A span that records nothing and carries `context` (e.g. an extracted remote parent).
SpanPtr make_non_recording_span(const SpanContext& context);
// The shared invalid non-recording span (what current_span() returns when none is current).
const SpanPtr& invalid_span();

// Demangled type name of an exception object (e.g. "std::runtime_error").
std::string exception_type_name(const std::exception& e);
// Demangled type name of std::current_exception() ("unknown" when none).
std::string current_exception_type_name();

}  // namespace kiq::otel
