// TraceState: the W3C `tracestate` list, immutable. Mutations return a new TraceState and
// reject invalid keys/values (returning the unchanged state), per the OpenTelemetry API.
//
// Thread-safety: value type; immutable after construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiq::otel {

class TraceState {
 public:
  static constexpr std::size_t kMaxMembers = 32;

  TraceState() = default;

  // Parses a header value (possibly several headers joined with ','). Any invalid member,
  // a duplicate key or more than 32 members -> nullopt (the whole tracestate is discarded).
  static std::optional<TraceState> parse(std::string_view header);
  static bool valid_key(std::string_view key);
  static bool valid_value(std::string_view value);

  std::optional<std::string> get(std::string_view key) const;
  // Adds or updates `key`, moving it to the front; drops the right-most member beyond 32.
  TraceState set(std::string_view key, std::string_view value) const;
  TraceState erase(std::string_view key) const;

  bool empty() const { return members_.empty(); }
  std::size_t size() const { return members_.size(); }
  const std::vector<std::pair<std::string, std::string>>& members() const { return members_; }
  std::string to_header() const;  // "k1=v1,k2=v2"; empty when empty

  friend bool operator==(const TraceState&, const TraceState&) = default;

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

}  // namespace kiq::otel
