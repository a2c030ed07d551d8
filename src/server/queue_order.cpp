// Queue order (Sidekiq BasicFetch#queues_cmd) and `-q name[,weight]` parsing.
#include "server/queue_order.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace kiq {

QueueWeight QueueWeight::parse(std::string_view arg) {
  auto comma = arg.find(',');
  std::string_view name = arg.substr(0, comma);
  if (name.empty()) throw std::invalid_argument(fmt::format("kiq: queue '{}' has no name", arg));
  QueueWeight q{std::string(name), 0};
  if (comma != std::string_view::npos) {
    std::string_view w = arg.substr(comma + 1);
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), q.weight);
    if (ec != std::errc() || end != w.data() + w.size() || q.weight < 0)
      throw std::invalid_argument(
          fmt::format("kiq: queue '{}': weight must be a non-negative integer", arg));
  }
  return q;
}

}  // namespace kiq

namespace kiq::server {

QueueOrder::QueueOrder(const std::vector<QueueWeight>& queues, bool force_strict)
    : weights_(queues) {
  if (queues.empty()) throw std::invalid_argument("kiq: the server needs at least one queue");
  bool any_weight = false;
  std::set<std::string> seen;
  for (const auto& q : queues) {
    if (q.name.empty()) throw std::invalid_argument("kiq: queue names must not be empty");
    if (q.weight < 0) throw std::invalid_argument(fmt::format("kiq: queue {}: negative weight", q.name));
    any_weight = any_weight || q.weight > 0;
    if (seen.insert(q.name).second) names_.push_back(q.name);
    for (int i = 0; i < std::max(q.weight, 1); ++i) weighted_.push_back(q.name);
  }
  strict_ = force_strict || !any_weight;
}

std::vector<std::string> QueueOrder::next() {
  if (strict_) return names_;
  std::vector<std::string> shuffled = weighted_;
  std::shuffle(shuffled.begin(), shuffled.end(), rng_);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& name : shuffled)
    if (seen.insert(name).second) out.push_back(std::move(name));
  return out;
}

}  // namespace kiq::server
