// Helpers for the server tests: fast options, waiting for conditions (never timing asserts).
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "kiq/kiq.hpp"

namespace kiq::test {

inline ServerOptions fast_options(int concurrency = 2) {
  ServerOptions o;
  o.concurrency = concurrency;
  o.fetch_timeout = std::chrono::milliseconds(20);
  o.poll_interval_average = std::chrono::milliseconds(20);
  o.initial_poll_delay = std::chrono::milliseconds(0);
  o.heartbeat_interval = std::chrono::milliseconds(30);
  o.timeout = std::chrono::milliseconds(3000);
  o.logger = make_null_logger();
  return o;
}

// Polls `pred` until true; false after a generous timeout (only to avoid hangs).
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A gate jobs can wait on; shared so detached workers never outlive it.
struct Gate {
  std::promise<void> promise;
  std::shared_future<void> future = promise.get_future().share();
  void open() { promise.set_value(); }
  void wait() const { future.wait(); }
};

}  // namespace kiq::test
