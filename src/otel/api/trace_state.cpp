#include "kiq/otel/trace_state.hpp"

#include <algorithm>

#include "otel/internal/text.hpp"

namespace kiq::otel {
namespace {

constexpr std::size_t kMaxKeySize = 256;
constexpr std::size_t kMaxValueSize = 256;

bool lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// W3C Level 2 key grammar: (lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@").
// It accepts every Level 1 key (simple and tenant@system) and rejects a leading '@'.
bool TraceState::valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeySize) return false;
  if (!lcalpha(key[0]) && !digit(key[0])) return false;
  return std::all_of(key.begin() + 1, key.end(), [](char c) {
    return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
  });
}

// 0*255(chr) nblk-chr; chr = 0x20 / nblk-chr; nblk-chr = 0x21-0x7E except ',' and '='.
bool TraceState::valid_value(std::string_view value) {
  if (value.empty() || value.size() > kMaxValueSize || value.back() == ' ') return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e && c != ',' && c != '=';
  });
}

std::optional<TraceState> TraceState::parse(std::string_view header) {
  TraceState ts;
  bool ok = true;
  internal::split(header, ',', [&](std::string_view member) {
    if (!ok) return;
    member = internal::trim_ows(member);
    if (member.empty()) return;  // empty members are allowed and skipped
    auto eq = member.find('=');
    if (eq == std::string_view::npos) {
      ok = false;
      return;
    }
    auto key = member.substr(0, eq);
    auto value = member.substr(eq + 1);
    if (!valid_key(key) || !valid_value(value) || ts.members_.size() >= kMaxMembers ||
        ts.get(key)) {
      ok = false;
      return;
    }
    ts.members_.emplace_back(std::string(key), std::string(value));
  });
  if (!ok) return std::nullopt;
  return ts;
}

std::optional<std::string> TraceState::get(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

TraceState TraceState::set(std::string_view key, std::string_view value) const {
  if (!valid_key(key) || !valid_value(value)) return *this;
  TraceState out;
  out.members_.reserve(std::min(members_.size() + 1, kMaxMembers));
  out.members_.emplace_back(std::string(key), std::string(value));
  for (const auto& m : members_) {
    if (out.members_.size() >= kMaxMembers) break;  // drop the right-most beyond 32
    if (m.first != key) out.members_.push_back(m);
  }
  return out;
}

TraceState TraceState::erase(std::string_view key) const {
  TraceState out;
  for (const auto& m : members_) {
    if (m.first != key) out.members_.push_back(m);
  }
  return out;
}

std::string TraceState::to_header() const {
  std::string out;
  for (const auto& [k, v] : members_) {
    if (!out.empty()) out += ',';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

}  // namespace kiq::otel
