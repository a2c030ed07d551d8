// Diagnostics of kiq_otlp go to stderr, one line each, prefixed so they are easy to grep.
// The exporter itself decides how often to log (once per outage), not this helper.
//
// Thread-safety: each call writes one line with a single fwrite.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace kiq::otel::otlp {

template <typename... Args>
void log_warn(fmt::format_string<Args...> format, Args&&... args) {
  std::string line = "kiq otlp: " + fmt::format(format, std::forward<Args>(args)...) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kiq::otel::otlp
