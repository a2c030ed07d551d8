// Small text helpers for header parsing (OWS trimming, splitting).
#pragma once

#include <string_view>

namespace kiq::otel::internal {

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

// Trims HTTP optional whitespace (spaces and tabs) on both ends.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(piece) for each `sep`-separated piece (pieces may be empty).
template <class Fn>
void split(std::string_view s, char sep, Fn&& fn) {
  while (true) {
    auto pos = s.find(sep);
    fn(s.substr(0, pos));
    if (pos == std::string_view::npos) return;
    s.remove_prefix(pos + 1);
  }
}

}  // namespace kiq::otel::internal
