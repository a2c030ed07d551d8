#include "otel/internal/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
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

struct Reported {
  std::mutex mu;
  std::set<std::string, std::less<>> seen;
};

// Never destroyed: SDK threads (a batch processor flushing while the global provider is torn
// down at exit) may still log after other statics are gone.
Reported& reported() {
  alignas(Reported) static unsigned char storage[sizeof(Reported)];
  static Reported* r = ::new (storage) Reported();
  return *r;
}

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
  constexpr std::size_t kMaxKeys = 1024;  // bound memory if keys are unbounded (e.g. URLs)
  Reported& r = reported();
  std::lock_guard lock(r.mu);
  if (r.seen.find(key) != r.seen.end()) return false;
  if (r.seen.size() >= kMaxKeys) return false;
  r.seen.emplace(key);
  return true;
}

std::size_t warning_count() { return g_warnings.load(std::memory_order_relaxed); }

}  // namespace kiq::otel::internal
