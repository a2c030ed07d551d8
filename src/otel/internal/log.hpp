// Internal diagnostics of the tracing SDK: one line to stderr per problem, "report once"
// semantics for problems that would otherwise repeat per span or per export.
// OTEL_LOG_LEVEL (debug|info|warn|error|none, default info) filters the output.
//
// Thread-safety: thread-safe. The set of already-reported keys is process-wide (bounded).
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace kiq::otel::internal {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kNone = 4 };

void log(LogLevel level, std::string_view message);
// True the first time `key` is seen in this process (false afterwards).
bool first_report(std::string_view key);
// Number of messages logged so far at kWarn or above (tests use it to check a warning happened).
std::size_t warning_count();

template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  log(LogLevel::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  log(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}
// Logs at kWarn only the first time `key` is reported.
template <class... Args>
void warn_once(std::string_view key, fmt::format_string<Args...> f, Args&&... args) {
  if (first_report(key)) log(LogLevel::kWarn, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace kiq::otel::internal
