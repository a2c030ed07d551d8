// Baggage: immutable name -> (value, metadata) map propagated alongside the trace (W3C baggage).
//
// Thread-safety: immutable value type; copies share storage, so copying is cheap and any number
// of threads may read the same Baggage.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiq::otel {

class Baggage {
 public:
  struct Entry {
    std::string name;
    std::string value;     // decoded (not percent-encoded)
    std::string metadata;  // opaque property string, e.g. "p1;p2=v" (empty when none)
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  Baggage() = default;

  // Value of `name`, or nullopt. Names are case-sensitive.
  std::optional<std::string> get(std::string_view name) const;
  const Entry* find(std::string_view name) const;
  // A new Baggage with `name` set (a new value for an existing name wins; order: appended).
  Baggage set(std::string_view name, std::string_view value, std::string_view metadata = {}) const;
  Baggage remove(std::string_view name) const;

  bool empty() const { return !entries_ || entries_->empty(); }
  std::size_t size() const { return entries_ ? entries_->size() : 0; }
  const std::vector<Entry>& entries() const;

  friend bool operator==(const Baggage& a, const Baggage& b) { return a.entries() == b.entries(); }

 private:
  explicit Baggage(std::shared_ptr<const std::vector<Entry>> e) : entries_(std::move(e)) {}
  std::shared_ptr<const std::vector<Entry>> entries_;  // null == empty
};

}  // namespace kiq::otel
