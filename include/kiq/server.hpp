// Server: runs jobs from a Store with N worker threads (Sidekiq's Launcher + Manager +
// Processors + Fetcher + Scheduled::Poller + heartbeat).
//
//   kiq::ServerOptions options;
//   options.concurrency = 10;
//   options.queues = {{"critical", 3}, {"default", 1}};
//   kiq::Server server(std::move(options), registry, kiq::open_store(url));
//   server.run();   // blocks until stop() (e.g. from the CLI's signal thread)
//
// Lifecycle: start() (non-blocking) -> quiet() (stop fetching) -> stop() (graceful: wait up to
// `timeout` for running jobs, then put unfinished and buffered jobs back on their queues and
// remove the process). Signals are the CLI's business: it calls quiet()/stop() from its own
// signal-watching thread; signals written by the Web UI (TSTP/TERM) arrive via the heartbeat.
//
// A job still running at the shutdown deadline cannot be interrupted in C++: its job goes back
// to the queue, its worker thread is detached and its eventual result is dropped (at-least-once).
//
// Thread-safety: every public method is thread-safe and may be called from any thread; stop()
// and the destructor block until the server has stopped (never call stop() from a job: use
// request_stop()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/job.hpp"
#include "kiq/middleware.hpp"
#include "kiq/store.hpp"

namespace spdlog {
class logger;
}

namespace kiq {

class Client;

// One `-q name[,weight]` entry. weight 0 = no weight given. Thread-safety: value type.
struct QueueWeight {
  std::string name;
  int weight = 0;
  // Parses "name" or "name,weight"; throws std::invalid_argument with a clear message.
  static QueueWeight parse(std::string_view arg);
};

// Thread-safety: value type (copied into the Server; middleware objects are shared).
struct ServerOptions {
  int concurrency = 10;
  // Fetch order. No weights anywhere (or `strict`) = strict priority in this order; otherwise
  // each fetch uses a weighted random order (Sidekiq: shuffle + uniq of the repeated list).
  std::vector<QueueWeight> queues = {{"default", 0}};
  bool strict = false;
  std::chrono::milliseconds timeout{25000};  // shutdown grace period
  // Scheduled poller: average interval. 0 = Sidekiq's formula (process count x
  // average_scheduled_poll_interval); the sleep is jittered as Sidekiq does.
  std::chrono::milliseconds poll_interval_average{0};
  std::chrono::milliseconds average_scheduled_poll_interval{5000};
  // First poll after start (Sidekiq: 10 s + rand*5 s unless poll_interval_average is set, in
  // which case it is the jittered average). Negative = Sidekiq's rule.
  std::chrono::milliseconds initial_poll_delay{-1};
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::seconds process_ttl{60};
  // How often orphans of dead processes are looked for (Store::recover_orphans). A crashed
  // process's jobs come back within process_ttl + orphan_check_interval (+ one heartbeat
  // interval of granularity): 60 + 5 = 65 s by default; at once for a dead process on this host.
  std::chrono::milliseconds orphan_check_interval{5000};
  std::string tag;
  std::vector<std::string> labels;
  std::string identity;  // empty = "host:pid:<12 hex>"
  DeadSetLimits dead_limits;
  int max_retries = 25;     // for retry: true
  double time_scale = 1.0;  // multiplies retry delays (the demo shrinks backoff)
  // Jobs per fetch call (two batches are buffered). 0 = adaptive: about 5 ms of work for the
  // whole pool at the observed job time, between the concurrency and 250. At most
  // kMaxFetchBatch (the Server constructor throws std::invalid_argument above it).
  std::size_t fetch_batch = 0;
  static constexpr std::size_t kMaxFetchBatch = 100'000;
  std::chrono::milliseconds fetch_timeout{2000};  // blocking fetch wait (Sidekiq: 2 s)
  ServerChain server_middleware;
  ClientChain client_middleware;  // for jobs enqueued by jobs and poller re-pushes
  std::shared_ptr<spdlog::logger> logger;  // null = spdlog's default logger
  bool log_jobs = true;  // Sidekiq's start / done / fail lines per job (info level)
  // Runs around each periodic heartbeat (tracing::install sets it when trace_heartbeat is on,
  // to make a span of it). Must call `beat` once and let its exceptions through. Empty: none.
  std::function<void(const std::function<void()>& beat)> around_heartbeat;
};

// Counters of this server since start (stat:* in the store are the shared totals).
// Thread-safety: value type (a snapshot).
struct ServerStats {
  std::int64_t processed = 0;  // success + failure, as Sidekiq counts
  std::int64_t failed = 0;
  std::int64_t busy = 0;       // jobs running now
  std::int64_t buffered = 0;   // fetched, waiting for a worker
  std::int64_t retried = 0;    // handed to the retry set
  std::int64_t dead = 0;       // handed to the dead set
  std::int64_t requeued = 0;   // put back at shutdown
  std::int64_t recovered = 0;  // orphans recovered from dead processes
};

class Server {
 public:
  // Throws std::invalid_argument for bad options (concurrency < 1, no queues, empty names).
  Server(ServerOptions options, JobRegistry registry, std::shared_ptr<Store> store);
  ~Server();  // stop() if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();            // starts threads and returns; no-op if running
  void run();              // start() then block until stopped
  void quiet();            // stop fetching new jobs (running ones finish); heartbeat says quiet
  void stop();             // graceful stop (see top); idempotent
  void request_stop();     // asks run()/the server to stop without blocking the caller
  bool running() const;
  bool quieted() const;
  // Blocks until stop has been requested (by stop(), request_stop() or a TERM signal via the
  // heartbeat) and the server has stopped. Returns false on timeout.
  bool wait_stopped(std::chrono::milliseconds timeout);

  // Test/demo helpers. wait_until_idle: true when nothing is buffered or running and this
  // server's queues are empty. drain: also waits for due entries of the retry/schedule sets to
  // be moved (only those due by the deadline matter), i.e. "no work left that could run now".
  bool wait_until_idle(std::chrono::milliseconds timeout);
  bool drain(std::chrono::milliseconds timeout);
  // Wakes the scheduled poller now (tests and the demo use this instead of waiting).
  void poll_now();

  ServerStats stats() const;
  const std::string& identity() const;
  Client& client();  // bound to the store and the client middleware
  const ServerOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:pid:<12 hex>" (Sidekiq's identity; host = $DYNO or gethostname()).
std::string make_identity();

// The Sidekiq log format as an spdlog logger writing to stderr:
// `2024-01-01T00:00:00.000Z pid=123 tid=abc INFO: ...` (UTC, milliseconds).
std::shared_ptr<spdlog::logger> make_sidekiq_logger(std::string name = "kiq");
// A logger that discards everything (tests).
std::shared_ptr<spdlog::logger> make_null_logger(std::string name = "kiq-null");

}  // namespace kiq
