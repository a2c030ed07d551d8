// A tiny test-and-test-and-set lock for critical sections of a few dozen instructions (span
// mutation): cheaper than std::mutex when uncontended, yields when contended.
//
// Thread-safety: it is the synchronization primitive. Satisfies Lockable (std::lock_guard).
#pragma once

#include <atomic>
#include <thread>

namespace kiq::otel::internal {

class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace kiq::otel::internal
