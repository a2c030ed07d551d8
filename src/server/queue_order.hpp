// Queue fetch order: Sidekiq's strict priority or weighted random order.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "kiq/server.hpp"

namespace kiq::server {

// Thread-safety: next() is for the single fetcher thread; the rest is immutable.
class QueueOrder {
 public:
  // Throws std::invalid_argument for no queues, empty names or negative weights.
  QueueOrder(const std::vector<QueueWeight>& queues, bool force_strict);

  // The order to fetch in this time: strict = fixed; weighted = shuffle + uniq of the list
  // with each queue repeated `weight` times.
  std::vector<std::string> next();
  bool strict() const { return strict_; }
  const std::vector<std::string>& names() const { return names_; }  // unique, in given order
  const std::vector<QueueWeight>& weights() const { return weights_; }

 private:
  bool strict_;
  std::vector<std::string> names_;
  std::vector<std::string> weighted_;  // each name repeated max(weight, 1) times
  std::vector<QueueWeight> weights_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace kiq::server
