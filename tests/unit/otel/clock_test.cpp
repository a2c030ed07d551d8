// now_unix_nanos(): the TSC-interpolated realtime clock agrees with CLOCK_REALTIME and never
// goes back on a thread, across its calibration and several re-anchorings (~40 ms of readings).
#include <time.h>

#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include "kiq/otel/span.hpp"

namespace {

std::uint64_t realtime() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Extrapolation error bound used below: far above the few microseconds the design allows, far
// below anything a broken scale or anchor would produce.
constexpr std::uint64_t kSlackNs = 1'000'000;

void check_readings() {
  const std::uint64_t stop = realtime() + 40'000'000;
  std::uint64_t last = 0;
  std::uint64_t readings = 0;
  while (true) {
    const std::uint64_t before = realtime();
    const std::uint64_t now = kiq::otel::now_unix_nanos();
    const std::uint64_t after = realtime();
    ASSERT_GE(now + kSlackNs, before);
    ASSERT_LE(now, after + kSlackNs);
    ASSERT_GE(now, last) << "went back after " << readings << " readings";
    last = now;
    ++readings;
    if (after > stop) break;
  }
  EXPECT_GT(readings, 100u);
}

TEST(Clock, AgreesWithRealtimeAndNeverGoesBack) { check_readings(); }

TEST(Clock, EachThreadCalibratesItsOwnClock) {
  std::thread t(check_readings);
  t.join();
  check_readings();  // this thread's state is already calibrated: re-anchoring path
}

}  // namespace
