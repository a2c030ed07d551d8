// Server state, the fetched-job buffer and the Sidekiq log line helper.
#include "server/state.hpp"

#include <fmt/format.h>

namespace kiq::server {

JobBuffer::JobBuffer(std::size_t min_batch, std::size_t max_batch, std::size_t workers)
    : min_batch_(std::max<std::size_t>(min_batch, 1)),
      max_batch_(std::max(max_batch, std::max<std::size_t>(min_batch, 1))),
      workers_(std::max<std::size_t>(workers, 1)) {}

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
  fetcher_cv_.wait_for(lock, timeout, [&] { return closed_ || claimable_locked(batch) > 0; });
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
  }
  if (wake_fetcher) fetcher_cv_.notify_one();
  // One wake-up per job: waking every worker for a small batch costs more than the jobs.
  // (A sleeping worker costs nothing; notify_one without waiters is not a system call.)
  for (std::size_t i = 0; i < n; ++i) jobs_cv_.notify_one();
  return {};
}

std::vector<FetchedJob> JobBuffer::put_back(std::vector<FetchedJob> jobs) {
  const std::size_t n = jobs.size();
  {
    std::lock_guard lock(mu_);
    if (closed_) return jobs;
    for (auto& j : jobs) jobs_.push_back(std::move(j));
  }
  for (std::size_t i = 0; i < n; ++i) jobs_cv_.notify_one();
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
  jobs_cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
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
// Fetch batch bounds: the concurrency up to kMaxFetchBatch, adapted to the job time (see
// JobBuffer), unless ServerOptions::fetch_batch fixes it.
constexpr std::size_t kMaxFetchBatch = 250;  // 500 cost ~0.7 MB more peak RSS, no measurable speed
JobBuffer make_buffer(const ServerOptions& o) {
  const auto workers = static_cast<std::size_t>(std::max(1, o.concurrency));
  if (o.fetch_batch > 0) return JobBuffer(o.fetch_batch, o.fetch_batch, workers);
  return JobBuffer(workers, std::max(workers, kMaxFetchBatch), workers);
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
      buffer(make_buffer(options)) {}

bool State::sleep_for(std::chrono::milliseconds d, bool poll) {
  std::unique_lock lock(wake_mu);
  wake_cv.wait_for(lock, d, [&] { return stopping.load() || (poll && poll_requested); });
  if (poll) poll_requested = false;
  return stopping.load();
}

void State::wake_all() {
  { std::lock_guard lock(wake_mu); }
  wake_cv.notify_all();
}

}  // namespace kiq::server
