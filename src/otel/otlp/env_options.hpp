// Parsing of the OTEL_EXPORTER_OTLP_* environment (otel.md C.8), separated from the exporter so
// that tests can feed it a fake environment.
//
// Rules: an empty value is unset; the signal-specific variable (..._TRACES_...) beats the
// generic one; bad values are logged and ignored (the default stays).
//
// Thread-safety: pure functions (the getter is called synchronously).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiq/otel/sdk/exporters/otlp_http.hpp"

namespace kiq::otel::otlp {

// Returns the variable's value, or nullopt when unset.
using EnvGetter = std::function<std::optional<std::string>(const char* name)>;

// The process environment (std::getenv).
std::optional<std::string> process_env(const char* name);

// base + "/" + path with exactly one slash between them: ("http://c:4318/x/", "v1/traces") ->
// "http://c:4318/x/v1/traces".
std::string join_endpoint(std::string_view base, std::string_view path = "v1/traces");

// "k1=v1,k2=v2" with percent-encoded keys/values and optional whitespace around them. Malformed
// members (no '=', empty key, bad percent escape) are skipped with a warning.
std::vector<std::pair<std::string, std::string>> parse_headers(std::string_view value);

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view value);

// Applies OTEL_EXPORTER_OTLP_* variables read through `env` on top of `defaults`.
sdk::OtlpHttpExporterOptions options_from_env(const EnvGetter& env,
                                              sdk::OtlpHttpExporterOptions defaults = {});

}  // namespace kiq::otel::otlp
