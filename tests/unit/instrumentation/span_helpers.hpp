// Small accessors for asserting on SpanData in instrumentation and example tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/otel/sdk/span_data.hpp"

namespace kiq::test {

inline const otel::AttributeValue* attr(const otel::sdk::SpanData& s, std::string_view key) {
  for (const auto& a : s.attributes)
    if (a.key == key) return &a.value;
  return nullptr;
}
inline const otel::AttributeValue* attr(const otel::Attributes& attrs, std::string_view key) {
  for (const auto& a : attrs)
    if (a.key == key) return &a.value;
  return nullptr;
}

template <class T, class Src>
std::optional<T> get(const Src& s, std::string_view key) {
  const otel::AttributeValue* v = attr(s, key);
  if (!v) return std::nullopt;
  if (const T* t = std::get_if<T>(v)) return *t;
  return std::nullopt;
}
template <class Src>
std::optional<std::string> str(const Src& s, std::string_view key) { return get<std::string>(s, key); }
template <class Src>
std::optional<std::int64_t> i64(const Src& s, std::string_view key) { return get<std::int64_t>(s, key); }
template <class Src>
std::optional<bool> boolean(const Src& s, std::string_view key) { return get<bool>(s, key); }
template <class Src>
std::optional<double> dbl(const Src& s, std::string_view key) { return get<double>(s, key); }

inline std::vector<std::string> event_names(const otel::sdk::SpanData& s) {
  std::vector<std::string> out;
  for (const auto& e : s.events) out.push_back(e.name);
  return out;
}

inline const otel::sdk::EventData* event(const otel::sdk::SpanData& s, std::string_view name) {
  for (const auto& e : s.events)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace kiq::test
