// CachedGlobal<T, Tag>: a process-wide shared_ptr<T> read on hot paths (the global tracer
// provider, the global propagator).
//
// Writers swap the value under a mutex and bump a generation; each thread keeps a copy and
// takes the mutex only when the generation moved, so a read is one atomic load. Holding the
// copy keeps a replaced object alive until that thread reads again (or exits). A thread whose
// copy is already destroyed (static and thread_local destructors at exit) reads the shared
// value under the mutex instead.
//
// One instance per Tag (the thread copies are keyed by it).
// Thread-safety: all members may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "otel/internal/thread_slot.hpp"

namespace kiq::otel::internal {

template <class T, class Tag>
class CachedGlobal {
 public:
  explicit CachedGlobal(std::shared_ptr<T> initial) : value_(std::move(initial)) {}

  std::shared_ptr<T> get() {
    Copy* copy = thread_slot<Copy, Tag>();
    if (copy == nullptr) {
      std::lock_guard lock(mu_);
      return value_;
    }
    if (copy->generation != generation_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      copy->value = value_;
      copy->generation = generation_.load(std::memory_order_relaxed);  // matches `value`
    }
    return copy->value;
  }

  void set(std::shared_ptr<T> value) {
    // Drop this thread's copy, so a set-then-release on one thread frees the old object at once.
    if (Copy* copy = thread_slot<Copy, Tag>()) {
      copy->value.reset();
      copy->generation = 0;
    }
    {
      std::lock_guard lock(mu_);
      value_.swap(value);
      generation_.fetch_add(1, std::memory_order_release);
    }
    // The previous value (now in `value`) is released here, outside the lock; threads that
    // copied it keep it alive until their next read.
  }

  // Moves on every set(); never 0.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  struct Copy {
    std::uint64_t generation = 0;  // 0: no copy yet
    std::shared_ptr<T> value;
  };
  std::mutex mu_;
  std::shared_ptr<T> value_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace kiq::otel::internal
