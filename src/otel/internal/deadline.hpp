// Deadlines from timeouts that may mean "forever": std::chrono::milliseconds::max() from an API
// caller, or a huge OTEL_* value. steady_clock::now() + timeout overflows once the sum passes
// ~292 years of nanoseconds (undefined behaviour; in practice a deadline in the past, so a
// flush or a batch delay that should wait forever returns at once), and so does
// condition_variable::wait_for, which adds the timeout to now() itself. These saturate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <utility>

namespace kiq::otel::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

// now + timeout, or SteadyTime::max() when that does not fit; now for a negative timeout.
inline SteadyTime deadline_after(std::chrono::milliseconds timeout,
                                 SteadyTime now = std::chrono::steady_clock::now()) {
  if (timeout <= std::chrono::milliseconds::zero()) return now;
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyTime::max() - now);
  if (timeout >= room) return SteadyTime::max();
  return now + timeout;
}

// cv.wait_for(lock, timeout, pred) for any timeout, "forever" included.
template <class Lock, class Predicate>
bool wait_at_most(std::condition_variable& cv, Lock& lock, std::chrono::milliseconds timeout,
                  Predicate pred) {
  return cv.wait_until(lock, deadline_after(timeout), std::move(pred));
}

}  // namespace kiq::otel::internal
