#include "otel/internal/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <strings.h>

namespace kiq::otel::internal {
namespace {

LogLevel level_from_env() {
  const char* v = std::getenv("OTEL_LOG_LEVEL");
  if (!v || !*v) return LogLevel::kInfo;
  if (!strcasecmp(v, "debug")) return LogLevel::kDebug;
  if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning")) return LogLevel::kWarn;
  if (!strcasecmp(v, "error")) return LogLevel::kError;
  if (!strcasecmp(v, "none")) return LogLevel::kNone;
  return LogLevel::kInfo;
}

std::atomic<std::size_t> g_warnings{0};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    default: return "";
  }
}

}  // namespace

void log(LogLevel level, std::string_view message) {
  static const LogLevel threshold = level_from_env();
  if (level >= LogLevel::kWarn) g_warnings.fetch_add(1, std::memory_order_relaxed);
  if (level < threshold || level == LogLevel::kNone) return;
  // One fprintf call per line so concurrent lines do not interleave.
  std::fprintf(stderr, "kiq.otel %s: %.*s\n", level_name(level), static_cast<int>(message.size()),
               message.data());
}

bool first_report(std::string_view key) {
  static std::mutex mu;
  static std::set<std::string, std::less<>> seen;
  constexpr std::size_t kMaxKeys = 1024;  // bound memory if keys are unbounded (e.g. URLs)
  std::lock_guard lock(mu);
  if (seen.find(key) != seen.end()) return false;
  if (seen.size() >= kMaxKeys) return false;
  seen.emplace(key);
  return true;
}

std::size_t warning_count() { return g_warnings.load(std::memory_order_relaxed); }

}  // namespace kiq::otel::internal
