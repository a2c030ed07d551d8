#include "otel/otlp/env_options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "otel/otlp/log.hpp"

namespace kiq::otel::otlp {
namespace {

std::string_view trim(std::string_view s) {
  auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The signal-specific variable if set, else the generic one; the name found is reported too.
struct Found {
  std::string name;
  std::string value;
};
std::optional<Found> lookup(const EnvGetter& env, const char* traces_name, const char* generic) {
  for (const char* name : {traces_name, generic}) {
    if (auto value = env(name); value && !value->empty()) return Found{name, *value};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string join_endpoint(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out(base);
  out += '/';
  out += path;
  return out;
}

std::optional<std::string> percent_decode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 2 >= value.size()) return std::nullopt;
    int hi = hex_value(value[i + 1]);
    int lo = hex_value(value[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_headers(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> headers;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view member = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (member.empty()) continue;
    std::size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      log_warn("ignoring OTLP header '{}': expected key=value", member);
      continue;
    }
    auto key = percent_decode(trim(member.substr(0, eq)));
    auto val = percent_decode(trim(member.substr(eq + 1)));
    if (!key || !val || key->empty()) {
      log_warn("ignoring OTLP header '{}': empty key or bad percent-encoding", member);
      continue;
    }
    // HTTP header names and values must not contain CR/LF (header injection).
    if (key->find_first_of("\r\n:") != std::string::npos ||
        val->find_first_of("\r\n") != std::string::npos) {
      log_warn("ignoring OTLP header '{}': forbidden character", *key);
      continue;
    }
    headers.emplace_back(std::move(*key), std::move(*val));
  }
  return headers;
}

sdk::OtlpHttpExporterOptions options_from_env(const EnvGetter& env,
                                              sdk::OtlpHttpExporterOptions options) {
  if (auto v = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v && !v->empty()) {
    options.endpoint = *v;  // signal-specific endpoint is used as-is
  } else if (auto base = env("OTEL_EXPORTER_OTLP_ENDPOINT"); base && !base->empty()) {
    options.endpoint = join_endpoint(*base);
  }

  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")) {
    options.headers = parse_headers(v->value);
  }

  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")) {
    std::string_view text = trim(v->value);
    long long ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) {
      log_warn("ignoring {}='{}': not an integer number of milliseconds", v->name, v->value);
    } else if (ms < 0) {
      log_warn("ignoring {}={}: negative timeout", v->name, ms);
    } else {
      options.timeout = std::chrono::milliseconds(ms);  // 0 = no limit
    }
  }

  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                      "OTEL_EXPORTER_OTLP_COMPRESSION")) {
    std::string c = lower(trim(v->value));
    if (c == "gzip") {
      options.compression = sdk::OtlpCompression::kGzip;
    } else if (c == "none") {
      options.compression = sdk::OtlpCompression::kNone;
    } else {
      log_warn("ignoring {}='{}': expected gzip or none", v->name, v->value);
    }
  }

  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")) {
    std::string p = lower(trim(v->value));
    if (p == "http/protobuf") {
      options.protocol = sdk::OtlpProtocol::kHttpProtobuf;
    } else if (p == "http/json") {
      options.protocol = sdk::OtlpProtocol::kHttpJson;
    } else if (p == "grpc") {
      log_warn("{}=grpc is not supported by kiq; using http/protobuf (the endpoint must be an "
               "OTLP/HTTP one, usually port 4318)", v->name);
      options.protocol = sdk::OtlpProtocol::kHttpProtobuf;
    } else {
      log_warn("ignoring {}='{}': expected http/protobuf or http/json", v->name, v->value);
    }
  }

  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                      "OTEL_EXPORTER_OTLP_CERTIFICATE")) {
    options.certificate_file = v->value;
  }
  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                      "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")) {
    options.client_certificate_file = v->value;
  }
  if (auto v = lookup(env, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")) {
    options.client_key_file = v->value;
  }
  return options;
}

}  // namespace kiq::otel::otlp

namespace kiq::otel::sdk {

// Here rather than with the exporter: the CLI reads the options without linking the exporter.
OtlpHttpExporterOptions OtlpHttpExporterOptions::from_env() {
  return otlp::options_from_env(otlp::process_env);
}

}  // namespace kiq::otel::sdk
