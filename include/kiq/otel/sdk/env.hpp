// Typed readers for OTEL_* environment variables (spec "Environment Variable Specification"):
// an empty value is the same as unset; bools are true only for "true" (case-insensitive);
// unparseable numbers and negative durations are warned about (once) and treated as unset.
//
// Thread-safety: thread-safe as long as nobody calls setenv() concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace kiq::otel::sdk {

std::optional<std::string> env_string(const char* name);
// Any value but "true"/"false" (case-insensitive) is warned about and gives `fallback`.
bool env_bool(const char* name, bool fallback = false);
std::optional<std::int64_t> env_int(const char* name);
std::optional<double> env_double(const char* name);
// Integer milliseconds; negative -> warn, nullopt.
std::optional<std::chrono::milliseconds> env_duration_ms(const char* name);

// OTEL_SDK_DISABLED=true: configure() must install the no-op provider (propagators still set).
bool sdk_disabled_by_env();

}  // namespace kiq::otel::sdk
