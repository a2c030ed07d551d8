// Shared state of one Server: what the launcher, fetcher, processors, poller and heartbeat all
// see. Private to src/server.
//
// Thread-safety: immutable fields are set before any thread starts; counters are atomics; the
// job buffer and each worker slot have their own mutexes.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
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

// Fetched jobs waiting for a worker, and the right to fetch more (the "fetch claim": one fetch
// at a time). Whoever sees room for a batch claims the fetch: usually a worker that has just
// taken a job (it is running anyway, so no thread is woken and nothing waits on a starved
// fetcher thread: with more workers than cores that hand-off dominated a no-op job's CPU),
// else the fetcher thread, which also does the blocking waits when the queues are empty.
// The batch adapts to the jobs: about kBatchWork of work for the whole pool (so a slow job
// never has more than that waiting behind the buffer), at least `min_batch` (the concurrency)
// and at most `max_batch`; room for two batches is buffered. Everything buffered is still in
// the store's in-progress list.
class JobBuffer {
 public:
  static constexpr std::chrono::milliseconds kBatchWork{5};

  // min_batch == max_batch fixes the batch (ServerOptions::fetch_batch).
  JobBuffer(std::size_t min_batch, std::size_t max_batch, std::size_t workers);

  // Fetcher thread: waits up to `timeout` for room for a batch with no fetch in flight, then
  // claims the fetch. Returns the batch to fetch, 0 if nothing was claimed (timeout, closed).
  std::size_t wait_and_claim(std::chrono::milliseconds timeout);
  // Worker: claims the fetch at once if there is room for a batch, no fetch is in flight and
  // the last fetch found jobs (otherwise the fetcher thread's blocking wait is the one to use).
  std::size_t try_claim();
  // Ends a claim: buffers the fetched jobs and wakes workers for them. Returns them instead if
  // the buffer is closed (the caller requeues them). An empty result hands fetching to the
  // fetcher thread until one of its fetches finds jobs.
  std::vector<FetchedJob> finish_fetch(std::vector<FetchedJob> jobs, bool by_fetcher_thread);
  // Buffers jobs outside any claim (a failed requeue keeps them here); returns them if closed.
  std::vector<FetchedJob> put_back(std::vector<FetchedJob> jobs);
  // Wall time a worker spent on one job (taking it to its ack): feeds the adaptive batch.
  void note_job_time(std::chrono::nanoseconds elapsed);

  // Next job, or nullopt once closed (buffered jobs stay for take_all).
  std::optional<FetchedJob> pop();
  void close();
  std::vector<FetchedJob> take_all();
  // Copy of the buffered jobs (the stray-job sweep compares them with the store).
  std::vector<FetchedJob> snapshot() const;
  std::size_t size() const;
  std::size_t batch() const;

 private:
  std::size_t batch_size() const;                 // from the job-time average
  void wake_workers(std::size_t wake, std::size_t waiting);  // after new jobs, outside mu_
  std::size_t claimable_locked(std::size_t batch) const;  // room if a claim is possible, else 0

  mutable std::mutex mu_;
  // Two condition variables so a push wakes only as many workers as there are new jobs and
  // the fetcher is woken only when it has to take over (one shared cv woke everybody).
  std::condition_variable fetcher_cv_;  // the fetcher thread waits for its turn
  std::condition_variable jobs_cv_;     // workers wait for jobs
  std::deque<FetchedJob> jobs_;
  const std::size_t min_batch_;
  const std::size_t max_batch_;
  const std::size_t workers_;
  std::atomic<std::int64_t> job_ns_{0};  // moving average of note_job_time; 0 = no data yet
  std::size_t waiting_ = 0;  // workers blocked in pop()
  bool fetching_ = false;
  bool workers_fetch_ = true;  // false after a fetch found nothing, until one finds jobs
  bool closed_ = false;
};

// One worker's job, as the heartbeat (<identity>:work), the stray-job sweep and shutdown see it.
// Each worker has its own slot and mutex: it locks only its own, a few times per job, so the
// workers never contend with each other (one shared table with a std::map insert and erase per
// job did); readers lock the slots one at a time.
struct WorkerSlot {
  explicit WorkerSlot(std::string t) : tid(std::move(t)) {}

  const std::string tid;  // Sidekiq's thread id (the <identity>:work field)
  mutable std::mutex mu;
  // Guarded by mu:
  // The job the worker has taken from the buffer and not yet handed on (acked, retried,
  // killed): wider than `running` (covers parsing, bad input and the store calls), so the
  // stray-job sweep never mistakes a job in a worker's hands for a lost one. Points into the
  // worker's own stack frame; valid while set.
  const FetchedJob* in_hand = nullptr;
  // in_hand is running (registered before the middleware and perform, until they return).
  bool running = false;
  std::int64_t run_at = 0;
  // Shutdown requeued the running job at the deadline: the worker drops its result.
  bool abandoned = false;
  // Shutdown requeued the in-hand job before it started: the worker must not start it (the
  // process is gone by then, and the job is queued again).
  bool abandoned_in_hand = false;
};

// Names the calling thread as `top -H`, perf and gdb show it (Linux keeps 15 characters).
void name_this_thread(const std::string& name);

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

  std::atomic<bool> fetch_outage{false};  // a fetch failed; logged once until one succeeds
  // A heartbeat has succeeded. Nothing is fetched before: jobs held in progress by an identity
  // without a process key look orphaned to other processes, which would run them again.
  std::atomic<bool> alive{false};
  std::atomic<bool> quiet{false};
  std::atomic<bool> stopping{false};

  std::atomic<std::int64_t> processed{0}, failed{0}, retried{0}, dead{0}, requeued{0}, recovered{0};
  // Not yet written to stat:* by a heartbeat.
  std::atomic<std::int64_t> unflushed_processed{0}, unflushed_failed{0};

  // Own in-progress entries nothing holds any more (failed acks, lost fetch replies); swept by
  // recover_orphans(), which only the heartbeat thread (and start(), before it) calls.
  StraySweeper strays;

  // One per worker (concurrency), made before any thread starts; the vector never changes.
  std::vector<std::unique_ptr<WorkerSlot>> slots;
  // Jobs running now (Sidekiq's busy).
  std::int64_t busy() const;
  // The in-hand jobs of all workers (copies).
  std::vector<FetchedJob> in_hand() const;

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
void run_processor(State& state, WorkerSlot& slot);
// Processes one fetched job completely (run, then ack / retry / dead). Never throws.
void process_job(State& state, WorkerSlot& slot, const FetchedJob& fetched);

// Fetcher thread body: fills the buffer until quiet or stopping (with workers' help, see
// JobBuffer), including the blocking waits on empty queues.
void run_fetcher(State& state);
// A worker's turn to fetch (JobBuffer::try_claim): one non-blocking fetch, if claimable.
void fetch_as_worker(State& state);
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
// Puts jobs this process holds back at the consumer end of their queues (Store::requeue) and
// counts them; `why` completes the log lines ("at quiet", "still running at the deadline").
// `announce`: log a warning on success too. On a store error: logged, false, and the jobs stay
// in this process's in-progress list (the stray-job sweep or orphan recovery brings them back).
bool requeue_jobs(State& state, std::span<const FetchedJob> jobs, std::string_view why, bool announce);
// Resident set size of this process in KB.
std::int64_t rss_kb();

}  // namespace kiq::server
