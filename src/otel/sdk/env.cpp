#include "kiq/otel/sdk/env.hpp"

#include <cerrno>
#include <cstdlib>
#include <strings.h>

#include "otel/internal/log.hpp"
#include "otel/internal/text.hpp"

namespace kiq::otel::sdk {

std::optional<std::string> env_string(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

bool env_bool(const char* name, bool fallback) {
  auto v = env_string(name);
  if (!v) return fallback;
  auto t = internal::trim_ows(*v);
  if (t.size() == 4 && !strncasecmp(t.data(), "true", 4)) return true;
  if (t.size() == 5 && !strncasecmp(t.data(), "false", 5)) return false;
  internal::warn("{}: '{}' is not a boolean (true/false), using {}", name, *v, fallback);
  return fallback;
}

std::optional<std::int64_t> env_int(const char* name) {
  auto v = env_string(name);
  if (!v) return std::nullopt;
  std::string t(internal::trim_ows(*v));
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || errno != 0 || *end != '\0') {
    internal::warn("{}: '{}' is not an integer, ignored", name, *v);
    return std::nullopt;
  }
  return static_cast<std::int64_t>(n);
}

std::optional<double> env_double(const char* name) {
  auto v = env_string(name);
  if (!v) return std::nullopt;
  std::string t(internal::trim_ows(*v));
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (t.empty() || errno != 0 || *end != '\0') {
    internal::warn("{}: '{}' is not a number, ignored", name, *v);
    return std::nullopt;
  }
  return d;
}

std::optional<std::chrono::milliseconds> env_duration_ms(const char* name) {
  auto n = env_int(name);
  if (!n) return std::nullopt;
  if (*n < 0) {
    internal::warn("{}: negative duration {} ignored", name, *n);
    return std::nullopt;
  }
  return std::chrono::milliseconds(*n);
}

bool sdk_disabled_by_env() { return env_bool("OTEL_SDK_DISABLED", false); }

}  // namespace kiq::otel::sdk
