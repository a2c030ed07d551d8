// Server state, the fetched-job buffer, thread names and the Sidekiq log line helper.
#include "server/state.hpp"

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/deadline.hpp"

namespace kiq::server {

JobBuffer::JobBuffer(std::size_t min_batch, std::size_t max_batch, std::size_t workers)
    : min_batch_(std::max<std::size_t>(min_batch, 1)),
      max_batch_(std::max(max_batch, std::max<std::size_t>(min_batch, 1))),
      workers_(std::max<std::size_t>(workers, 1)) {}

void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // longer names are refused
}

std::size_t JobBuffer::batch_size() const {
  const std::int64_t ns = job_ns_.load(std::memory_order_relaxed);
  if (ns <= 0 || min_batch_ == max_batch_) return min_batch_;
  // Jobs the pool gets through in kBatchWork at the observed pace.
  const double jobs = static_cast<double>(workers_) *
                      std::chrono::duration<double, std::nano>(kBatchWork).count() / static_cast<double>(ns);
  return std::clamp(static_cast<std::size_t>(jobs), min_batch_, max_batch_);
}

std::size_t JobBuffer::batch() const { return batch_size(); }

std::size_t JobBuffer::claimable_locked(std::size_t batch) const {
  if (closed_ || fetching_) return 0;
  const std::size_t capacity = 2 * batch;
  if (jobs_.size() + batch > capacity) return 0;  // not yet room for a whole batch
  return batch;
}

std::size_t JobBuffer::wait_and_claim(std::chrono::milliseconds timeout) {
  const std::size_t batch = batch_size();
  std::unique_lock lock(mu_);
  util::wait_at_most(fetcher_cv_, lock, timeout,
                     [&] { return closed_ || claimable_locked(batch) > 0; });
  const std::size_t n = claimable_locked(batch);
  if (n > 0) fetching_ = true;
  return n;
}

std::size_t JobBuffer::try_claim() {
  const std::size_t batch = batch_size();
  std::lock_guard lock(mu_);
  if (!workers_fetch_) return 0;
  const std::size_t n = claimable_locked(batch);
  if (n > 0) fetching_ = true;
  return n;
}

std::vector<FetchedJob> JobBuffer::finish_fetch(std::vector<FetchedJob> jobs, bool by_fetcher_thread) {
  const std::size_t n = jobs.size();
  bool wake_fetcher = false;
  std::size_t wake = 0, waiting = 0;
  {
    std::lock_guard lock(mu_);
    fetching_ = false;
    if (closed_) return jobs;
    for (auto& j : jobs) jobs_.push_back(std::move(j));
    if (n > 0) {
      workers_fetch_ = true;
    } else if (!by_fetcher_thread) {
      workers_fetch_ = false;  // queues look empty: the fetcher thread waits on them (blocking)
      wake_fetcher = true;
    }
    waiting = waiting_;
    wake = std::min(n, waiting);
  }
  if (wake_fetcher) fetcher_cv_.notify_one();
  wake_workers(wake, waiting);
  return {};
}

void JobBuffer::wake_workers(std::size_t wake, std::size_t waiting) {
  // No more wake-ups than sleeping workers: one per job woke workers that had gone back to
  // sleep on an empty buffer meanwhile (the notifying thread is often preempted by the first
  // worker it wakes, and by the time it resumed its loop the batch was gone), some 15 futile
  // wake-ups per worker wait on a no-op drain. Waking all of them is one system call.
  if (wake == 0) return;
  if (wake >= waiting) {
    jobs_cv_.notify_all();
    return;
  }
  for (std::size_t i = 0; i < wake; ++i) jobs_cv_.notify_one();
}

std::vector<FetchedJob> JobBuffer::put_back(std::vector<FetchedJob> jobs) {
  std::size_t wake = 0, waiting = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_) return jobs;
    for (auto& j : jobs) jobs_.push_back(std::move(j));
    waiting = waiting_;
    wake = std::min(jobs.size(), waiting);
  }
  wake_workers(wake, waiting);
  return {};
}

void JobBuffer::note_job_time(std::chrono::nanoseconds elapsed) {
  // Exponential moving average (1/16 weight), racy by design: an estimate for sizing only.
  const std::int64_t sample = std::max<std::int64_t>(elapsed.count(), 1);
  const std::int64_t old = job_ns_.load(std::memory_order_relaxed);
  job_ns_.store(old == 0 ? sample : old + (sample - old) / 16, std::memory_order_relaxed);
}

std::optional<FetchedJob> JobBuffer::pop() {
  std::unique_lock lock(mu_);
  if (!closed_ && jobs_.empty()) {
    ++waiting_;
    jobs_cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    --waiting_;
  }
  if (closed_) return std::nullopt;
  FetchedJob job = std::move(jobs_.front());
  jobs_.pop_front();
  return job;
}

void JobBuffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  fetcher_cv_.notify_all();
  jobs_cv_.notify_all();
}

std::vector<FetchedJob> JobBuffer::take_all() {
  std::lock_guard lock(mu_);
  std::vector<FetchedJob> out(std::make_move_iterator(jobs_.begin()), std::make_move_iterator(jobs_.end()));
  jobs_.clear();
  return out;
}

std::vector<FetchedJob> JobBuffer::snapshot() const {
  std::lock_guard lock(mu_);
  return {jobs_.begin(), jobs_.end()};
}

std::size_t JobBuffer::size() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

bool requeue_jobs(State& state, std::span<const FetchedJob> jobs, std::string_view why, bool announce) {
  if (jobs.empty()) return true;
  try {
    state.store->requeue(state.identity, jobs);
  } catch (const std::exception& e) {
    log_line(*state.logger, spdlog::level::err, "",
             fmt::format("requeue of {} job(s) {} failed: {} (they stay in progress and will be recovered)",
                         jobs.size(), why, e.what()));
    return false;
  }
  state.requeued += static_cast<std::int64_t>(jobs.size());
  if (announce)
    log_line(*state.logger, spdlog::level::warn, "", fmt::format("requeued {} job(s) {}", jobs.size(), why));
  return true;
}

void log_line(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view context,
              std::string_view message) {
  if (!logger.should_log(level)) return;
  static constexpr const char* kNames[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"};
  logger.log(level, "{}{}: {}", context, kNames[static_cast<int>(level)], message);
}

namespace {
std::shared_ptr<spdlog::logger> pick_logger(const ServerOptions& o) {
  return o.logger ? o.logger : spdlog::default_logger();
}
// Fetch batch bounds: the concurrency up to kMaxAdaptiveFetchBatch, adapted to the job time
// (see JobBuffer), unless ServerOptions::fetch_batch fixes it.
// 500 cost ~0.7 MB more peak RSS, no measurable speed.
constexpr std::size_t kMaxAdaptiveFetchBatch = 250;
JobBuffer make_buffer(const ServerOptions& o) {
  const auto workers = static_cast<std::size_t>(std::max(1, o.concurrency));
  if (o.fetch_batch > 0) return JobBuffer(o.fetch_batch, o.fetch_batch, workers);
  return JobBuffer(workers, std::max(workers, kMaxAdaptiveFetchBatch), workers);
}
std::vector<std::unique_ptr<WorkerSlot>> make_slots(const ServerOptions& o) {
  std::vector<std::unique_ptr<WorkerSlot>> slots;
  for (int i = 0; i < std::max(1, o.concurrency); ++i)
    slots.push_back(std::make_unique<WorkerSlot>(
        fmt::format("{:x}", (static_cast<unsigned>(getpid()) << 8) ^ static_cast<unsigned>(i + 1))));
  return slots;
}
RetryPolicyOptions retry_options(const ServerOptions& o) {
  RetryPolicyOptions r;
  r.max_retries = o.max_retries;
  r.time_scale = o.time_scale;
  r.dead_limits = o.dead_limits;
  return r;
}
}  // namespace

State::State(ServerOptions opts, JobRegistry reg, std::shared_ptr<Store> st)
    : options(std::move(opts)), registry(std::move(reg)), store(std::move(st)),
      logger(pick_logger(options)), client(store, options.client_middleware, &registry),
      retry_policy(retry_options(options)), queue_order(options.queues, options.strict),
      identity(options.identity.empty() ? make_identity() : options.identity),
      buffer(make_buffer(options)), slots(make_slots(options)) {}

std::int64_t State::busy() const {
  std::int64_t n = 0;
  for (const auto& slot : slots) {
    std::lock_guard lock(slot->mu);
    n += slot->running ? 1 : 0;
  }
  return n;
}

std::vector<FetchedJob> State::in_hand() const {
  std::vector<FetchedJob> out;
  for (const auto& slot : slots) {
    std::lock_guard lock(slot->mu);
    if (slot->in_hand) out.push_back(*slot->in_hand);
  }
  return out;
}

bool State::sleep_for(std::chrono::milliseconds d, bool poll) {
  std::unique_lock lock(wake_mu);
  util::wait_at_most(wake_cv, lock, d, [&] { return stopping.load() || (poll && poll_requested); });
  if (poll) poll_requested = false;
  return stopping.load();
}

void State::wake_all() {
  { std::lock_guard lock(wake_mu); }
  wake_cv.notify_all();
}

}  // namespace kiq::server
