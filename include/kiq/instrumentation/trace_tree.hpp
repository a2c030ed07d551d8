// Renders finished spans as one indented tree per trace, for terminals (`kiq demo`) and for
// test failure messages. Pure function of its input: no SDK state is read.
//
//   trace 4bf92f35…  3 spans
//   └─ POST /checkout  SERVER  12.3 ms
//      ├─ payments publish  PRODUCER  0.1 ms  jid=1a2b3c…
//      │    • created_at  +0.0 ms
//      └─ ...
//
// Spans whose parent is not among the input are shown as roots of their trace (a job's trace
// in link mode starts with its consumer span); links are printed under the span that has them.
//
// Thread-safety: free functions over caller-owned data; safe to call concurrently.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::tracing {

struct TreeOptions {
  bool color = false;            // ANSI colours (callers decide, e.g. isatty(fileno(stdout)))
  bool all_attributes = false;   // false: hide the standard messaging/sidekiq attributes
  std::size_t max_value_chars = 60;  // longer attribute values are cut with "…"
  bool show_stacktraces = false;     // exception.stacktrace is long; off by default
};

// Attribute keys the compact view hides: every job span carries them, so they say nothing.
bool is_standard_job_attribute(std::string_view key);

// Groups `spans` by trace id; traces ordered by their earliest start, children by start time.
std::string render_traces(std::span<const otel::sdk::SpanData> spans,
                          const TreeOptions& options = {});

// "12.3 ms", "850 µs", "1.24 s": short human duration of a nanosecond count.
std::string format_duration(std::uint64_t nanos);

// One attribute value as text: strings bare, doubles with up to 4 significant decimals,
// arrays as [a, b].
std::string format_value(const otel::AttributeValue& value);

}  // namespace kiq::tracing
