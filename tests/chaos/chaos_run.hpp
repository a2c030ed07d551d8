// The chaos scenario shared by the CTest chaos tests and `scripts/chaos` (tests/chaos/
// chaos_main.cpp): enqueue N MarkJobs (each adds its own id to a set and bumps a run counter),
// let `kiq server` processes drain them, and while they run SIGKILL the server (then start a
// replacement) and/or stop and restart redis-server (persistence on). At the end, every id must
// be in the set, and queues, in-progress lists, retry and dead must be empty.
//
// Only loopback: a private redis-server on a free port; the servers are the real `kiq` binary.
// Every wait is bounded by `deadline`, so a broken guarantee fails instead of hanging.
//
// Thread-safety: run_chaos is a plain function; run one scenario per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kiq::chaos {

struct ChaosOptions {
  std::string kiq_binary;        // path of the `kiq` executable
  int jobs = 20000;
  int kills = 3;                 // SIGKILL the running server this often, replacing it each time
  int redis_restarts = 0;        // stop + restart redis-server this often (then persistence is on)
  int concurrency = 10;
  unsigned seed = 0;             // 0 = random (the report prints the seed used)
  std::chrono::seconds deadline{240};
  // Short process TTL / heartbeat so orphans of expired processes come back quickly.
  double heartbeat_interval_s = 0.5;
  int process_ttl_s = 2;
  double orphan_check_interval_s = 0.5;
  std::function<void(const std::string&)> log;  // progress lines; null = silent
};

struct ChaosReport {
  unsigned seed = 0;
  int jobs = 0;
  int kills = 0;                  // kills actually performed
  int redis_restarts = 0;         // restarts actually performed
  std::int64_t marked = 0;        // distinct ids in the set at the end
  std::int64_t lost = 0;          // jobs - marked
  std::int64_t runs = 0;          // MarkJob executions (counter key)
  std::int64_t duplicates = 0;    // runs - marked: re-runs after crashes (at-least-once)
  std::vector<double> recovery_s; // per kill: SIGKILL -> the dead process owns no job any more
  double max_recovery_s = 0;
  std::int64_t left_queued = 0;   // jobs still in queue:default
  std::int64_t left_in_progress = 0;
  std::int64_t retry = 0;
  std::int64_t dead = 0;
  bool server_survived = true;    // redis restarts: the same server pid ran to the end
  bool process_visible = true;    // redis restarts: its process is back in `processes`
  double elapsed_s = 0;
  std::vector<std::string> problems;  // empty = every guarantee held

  bool ok() const { return problems.empty(); }
  // One line per figure (what scripts/chaos prints and the README quotes).
  std::string summary() const;
};

// Runs the whole scenario; throws only if the environment is unusable (no redis-server, the
// kiq binary missing). Broken guarantees are reported in ChaosReport::problems.
ChaosReport run_chaos(const ChaosOptions& options);

}  // namespace kiq::chaos
