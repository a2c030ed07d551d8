#include "kiq/otel/sdk/resource.hpp"

#include <unistd.h>

#include <optional>

#include "kiq/otel/sdk/env.hpp"
#include "otel/internal/log.hpp"
#include "otel/internal/text.hpp"

#ifndef KIQ_VERSION
#define KIQ_VERSION "0.0.0"
#endif

namespace kiq::otel::sdk {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

// OTEL_RESOURCE_ATTRIBUTES: "k1=v1,k2=v2", percent-decoded. Any error discards the whole list.
std::optional<Attributes> parse_resource_attributes(std::string_view text) {
  Attributes attrs;
  bool ok = true;
  internal::split(text, ',', [&](std::string_view member) {
    if (!ok) return;
    member = internal::trim_ows(member);
    if (member.empty()) return;
    auto eq = member.find('=');
    if (eq == std::string_view::npos) {
      ok = false;
      return;
    }
    auto key = percent_decode(internal::trim_ows(member.substr(0, eq)));
    auto value = percent_decode(internal::trim_ows(member.substr(eq + 1)));
    if (!key || !value || key->empty()) {
      ok = false;
      return;
    }
    for (auto& a : attrs) {
      if (a.key == *key) {
        a.value = std::move(*value);
        return;
      }
    }
    attrs.push_back({std::move(*key), std::move(*value)});
  });
  if (!ok) return std::nullopt;
  return attrs;
}

std::string executable_name() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  std::string_view path(buf, static_cast<std::size_t>(n));
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void upsert(Attributes& attrs, std::string key, AttributeValue value) {
  for (auto& a : attrs) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  attrs.push_back({std::move(key), std::move(value)});
}

}  // namespace

Resource::Resource(Attributes attributes, std::string schema_url)
    : schema_url_(std::move(schema_url)) {
  // Keys are unique; a later duplicate replaces the earlier value.
  for (auto& a : attributes) upsert(attributes_, std::move(a.key), std::move(a.value));
}

Resource Resource::from_environment() {
  Attributes attrs;
  if (auto text = env_string("OTEL_RESOURCE_ATTRIBUTES")) {
    if (auto parsed = parse_resource_attributes(*text)) {
      attrs = std::move(*parsed);
    } else {
      internal::warn("OTEL_RESOURCE_ATTRIBUTES is malformed ('{}'); ignored", *text);
    }
  }
  if (auto name = env_string("OTEL_SERVICE_NAME")) upsert(attrs, "service.name", *name);
  return Resource(std::move(attrs));
}

Resource Resource::default_resource() {
  std::string exe = executable_name();
  Resource sdk(Attributes{
      {"service.name", exe.empty() ? std::string("unknown_service")
                                   : "unknown_service:" + exe},
      {"telemetry.sdk.language", std::string("cpp")},
      {"telemetry.sdk.name", std::string("opentelemetry")},
      {"telemetry.sdk.version", std::string(KIQ_VERSION)},
  });
  return sdk.merge(from_environment());
}

Resource Resource::merge(const Resource& other) const {
  Resource out = *this;
  for (const auto& a : other.attributes_) upsert(out.attributes_, a.key, a.value);
  if (!other.schema_url_.empty()) out.schema_url_ = other.schema_url_;
  return out;
}

const AttributeValue* Resource::find(std::string_view key) const {
  for (const auto& a : attributes_) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

}  // namespace kiq::otel::sdk
