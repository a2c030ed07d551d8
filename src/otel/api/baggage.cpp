#include "kiq/otel/baggage.hpp"

#include <algorithm>

namespace kiq::otel {

const std::vector<Baggage::Entry>& Baggage::entries() const {
  static const std::vector<Entry> kEmpty;
  return entries_ ? *entries_ : kEmpty;
}

const Baggage::Entry* Baggage::find(std::string_view name) const {
  for (const auto& e : entries()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::optional<std::string> Baggage::get(std::string_view name) const {
  if (const Entry* e = find(name)) return e->value;
  return std::nullopt;
}

Baggage Baggage::set(std::string_view name, std::string_view value,
                     std::string_view metadata) const {
  auto next = std::make_shared<std::vector<Entry>>();
  next->reserve(size() + 1);
  for (const auto& e : entries()) {
    if (e.name != name) next->push_back(e);
  }
  next->push_back(Entry{std::string(name), std::string(value), std::string(metadata)});
  return Baggage(std::move(next));
}

Baggage Baggage::remove(std::string_view name) const {
  if (!find(name)) return *this;
  auto next = std::make_shared<std::vector<Entry>>();
  for (const auto& e : entries()) {
    if (e.name != name) next->push_back(e);
  }
  if (next->empty()) return Baggage();
  return Baggage(std::move(next));
}

}  // namespace kiq::otel
