// Small text helpers: header parsing (OWS trimming, splitting) and the span hot path's short
// string comparisons.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
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

// a == b for short strings (attribute keys, span names: typically 8-30 bytes), with word loads
// (the last word overlapping) instead of a memcmp call; loads never leave [data, data + size).
inline bool equal_short(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* pa = a.data();
  const char* pb = b.data();
  auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n >= 8) {
    for (std::size_t off = 0; off + 8 < n; off += 8) {
      if (word(pa + off) != word(pb + off)) return false;
    }
    return word(pa + n - 8) == word(pb + n - 8);
  }
  auto half = [](const char* p) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  };
  if (n >= 4) return half(pa) == half(pb) && half(pa + n - 4) == half(pb + n - 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (pa[i] != pb[i]) return false;
  }
  return true;
}

// s = v, skipped when equal: reused span buffers usually already hold the same name or key,
// and a compare is much cheaper than std::string's assignment.
inline void assign_if_different(std::string& s, std::string_view v) {
  if (!equal_short(s, v)) s.assign(v.data(), v.size());
}

}  // namespace kiq::otel::internal
