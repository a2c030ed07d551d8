// Deadlines from timeouts that may mean "forever": std::chrono::milliseconds::max() from an API
// caller (Server::drain, TracerProvider::force_flush, a key's TTL), or a huge OTEL_* value.
// steady_clock::now() + timeout overflows once the sum passes ~292 years of nanoseconds
// (undefined behaviour; in practice a deadline in the past, so a flush or a batch delay that
// should wait forever returns at once), and so does condition_variable::wait_for, which adds
// the timeout to now() itself. These saturate.
//
// Header-only, no dependencies: shared by the tracing SDK and the job engine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <utility>

namespace kiq::util {

using SteadyTime = std::chrono::steady_clock::time_point;

// now + timeout, or SteadyTime::max() when that does not fit; now for a negative timeout.
template <class Rep, class Period>
SteadyTime deadline_after(std::chrono::duration<Rep, Period> timeout,
                          SteadyTime now = std::chrono::steady_clock::now()) {
  using Timeout = std::chrono::duration<Rep, Period>;
  if (timeout <= Timeout::zero()) return now;
  const auto room = std::chrono::duration_cast<Timeout>(SteadyTime::max() - now);
  if (timeout >= room) return SteadyTime::max();
  return now + std::chrono::duration_cast<SteadyTime::duration>(timeout);
}

// Whole milliseconds left until `deadline`, never negative (0 once it has passed).
inline std::chrono::milliseconds time_left(SteadyTime deadline,
                                           SteadyTime now = std::chrono::steady_clock::now()) {
  if (deadline <= now) return std::chrono::milliseconds::zero();
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

// cv.wait_for(lock, timeout, pred) for any timeout, "forever" included.
template <class Lock, class Predicate>
bool wait_at_most(std::condition_variable& cv, Lock& lock, std::chrono::milliseconds timeout,
                  Predicate pred) {
  return cv.wait_until(lock, deadline_after(timeout), std::move(pred));
}

}  // namespace kiq::util
