// Shared state of one Server: what the launcher, fetcher, processors, poller and heartbeat all
// see. Private to src/server.
//
// Thread-safety: immutable fields are set before any thread starts; counters are atomics; the
// job buffer and the running-jobs table have their own mutexes.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "kiq/client.hpp"
#include "kiq/retry.hpp"
#include "kiq/server.hpp"
#include "kiq/store.hpp"
#include "server/queue_order.hpp"
#include "server/stray_jobs.hpp"

namespace kiq::server {

// Fetched jobs waiting for a worker. Bounded so the fetcher never takes more than the workers
// can start soon (everything here is still in the store's in-progress list).
class JobBuffer {
 public:
  // The fetcher is woken when `refill` slots are free (one fetch batch), not on every pop:
  // fewer, larger fetches and far fewer thread wake-ups.
  JobBuffer(std::size_t capacity, std::size_t refill)
      : capacity_(capacity), refill_(std::clamp<std::size_t>(refill, 1, capacity)) {}

  // Free slots once at least `refill` are free; waits up to `timeout` (0 when closed or not
  // enough room yet).
  std::size_t wait_for_space(std::chrono::milliseconds timeout);
  void push(std::vector<FetchedJob> jobs);
  // Next job, or nullopt once closed (buffered jobs stay for take_all).
  std::optional<FetchedJob> pop();
  void close();
  std::vector<FetchedJob> take_all();
  // Copy of the buffered jobs (the stray-job sweep compares them with the store).
  std::vector<FetchedJob> snapshot() const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  // Two condition variables so a pop wakes only the fetcher and a push only as many workers
  // as there are new jobs (one shared cv woke every worker per job: a thundering herd).
  std::condition_variable space_cv_;  // the fetcher waits for room
  std::condition_variable jobs_cv_;   // workers wait for jobs
  std::deque<FetchedJob> jobs_;
  std::size_t capacity_;
  std::size_t refill_;
  bool closed_ = false;
};

// A job a worker is running: shown in <identity>:work, requeued if still running at the
// shutdown deadline (then `abandoned`, and the worker drops its result).
struct RunningJob {
  FetchedJob fetched;
  std::int64_t run_at = 0;
  bool abandoned = false;
};

// Jobs per fetch call: ServerOptions::fetch_batch, or the concurrency.
std::size_t fetch_batch_size(const ServerOptions& options);

// Sidekiq-style log line: "<context>LEVEL: message" (see make_sidekiq_logger).
void log_line(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view context,
              std::string_view message);

struct State {
  State(ServerOptions options, JobRegistry registry, std::shared_ptr<Store> store);

  ServerOptions options;
  JobRegistry registry;
  std::shared_ptr<Store> store;
  std::shared_ptr<spdlog::logger> logger;
  Client client;
  RetryPolicy retry_policy;
  QueueOrder queue_order;
  std::string identity;
  std::string info_json;
  double started_at = 0;

  JobBuffer buffer;

  std::atomic<bool> quiet{false};
  std::atomic<bool> stopping{false};

  std::atomic<std::int64_t> processed{0}, failed{0}, retried{0}, dead{0}, requeued{0}, recovered{0};
  // Not yet written to stat:* by a heartbeat.
  std::atomic<std::int64_t> unflushed_processed{0}, unflushed_failed{0};

  // Own in-progress entries nothing holds any more (failed acks, lost fetch replies); swept by
  // recover_orphans(), which only the heartbeat thread (and start(), before it) calls.
  StraySweeper strays;

  mutable std::mutex running_mu;
  std::map<std::string, RunningJob> running;  // tid -> job
  // tid -> the job a worker has taken from the buffer and not yet handed on (acked, retried,
  // killed): wider than `running` (covers parsing, bad input and the store calls), so the
  // stray-job sweep never mistakes a job in a worker's hands for a lost one.
  // Points into the worker's own stack frame; valid while the entry exists.
  std::map<std::string, const FetchedJob*> in_hand;  // guarded by running_mu
  // Workers whose in-hand job (taken, not yet started) shutdown requeued at the deadline: they
  // must not start it afterwards (the process is gone by then, and the job is queued again).
  std::set<std::string> abandoned_in_hand;  // guarded by running_mu

  // Worker threads that have not exited yet (workers may outlive stop() when a job overruns
  // the shutdown deadline: they hold the State through a shared_ptr).
  std::mutex workers_mu;
  std::condition_variable workers_cv;
  std::vector<bool> worker_done;  // guarded by workers_mu
  std::atomic<int> polling{0};    // > 0 while the poller moves popped entries

  // Wakes the poller / heartbeat / launcher waits.
  std::mutex wake_mu;
  std::condition_variable wake_cv;
  bool poll_requested = false;  // guarded by wake_mu

  // Sleeps up to `d` or until stopping (or a poll request when `poll` is set); true if stopping.
  bool sleep_for(std::chrono::milliseconds d, bool poll = false);
  void wake_all();
};

// Worker thread body: runs jobs from the buffer until it is closed.
void run_processor(State& state, std::string tid);
// Processes one fetched job completely (run, then ack / retry / dead). Never throws.
void process_job(State& state, const std::string& tid, const FetchedJob& fetched);

// Fetcher thread body: fills the buffer until quiet or stopping.
void run_fetcher(State& state);
// Poller thread body: moves due retries and scheduled jobs to their queues until stopping.
void run_scheduled_poller(State& state);
// Moves every due entry of both sets now; returns how many jobs were enqueued.
std::size_t enqueue_due_jobs(State& state, double now);
// Heartbeat thread body; beats until stopping. Calls `on_signal` for TSTP/TERM/INT.
void run_heartbeat(State& state, const std::function<void(std::string_view)>& on_signal);
// One beat; returns the signal name popped from <identity>-signals, if any.
std::optional<std::string> beat(State& state);
// Info JSON of this process (Sidekiq's Launcher#to_data).
std::string build_info_json(const State& state);
// Orphan recovery (Store::recover_orphans); logs and counts what it recovered.
std::size_t recover_orphans(State& state);
// Requeues this process's own stray in-progress entries (see stray_jobs.hpp); called by
// recover_orphans. Throws StoreError.
std::size_t sweep_stray_jobs(State& state);
// Resident set size of this process in KB.
std::int64_t rss_kb();

}  // namespace kiq::server
