// Server state, the fetched-job buffer and the Sidekiq log line helper.
#include "server/state.hpp"

#include <fmt/format.h>

namespace kiq::server {

std::size_t JobBuffer::wait_for_space(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto room = [&] { return capacity_ - jobs_.size(); };
  space_cv_.wait_for(lock, timeout, [&] { return closed_ || room() >= refill_; });
  if (closed_ || room() < refill_) return 0;
  return room();
}

void JobBuffer::push(std::vector<FetchedJob> jobs) {
  std::size_t n = jobs.size();
  {
    std::lock_guard lock(mu_);
    for (auto& j : jobs) jobs_.push_back(std::move(j));
  }
  // One wake-up per job: waking every worker for a small batch costs more than the jobs.
  for (std::size_t i = 0; i < n; ++i) jobs_cv_.notify_one();
}

std::optional<FetchedJob> JobBuffer::pop() {
  std::unique_lock lock(mu_);
  jobs_cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
  if (closed_) return std::nullopt;
  FetchedJob job = std::move(jobs_.front());
  jobs_.pop_front();
  bool refill = capacity_ - jobs_.size() == refill_;  // just reached the refill mark
  lock.unlock();
  if (refill) space_cv_.notify_one();  // only the fetcher waits for space
  return job;
}

void JobBuffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  space_cv_.notify_all();
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

std::size_t fetch_batch_size(const ServerOptions& o) {
  if (o.fetch_batch > 0) return o.fetch_batch;
  return static_cast<std::size_t>(std::max(1, o.concurrency));
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
// Room for two fetch batches: workers finishing a batch find the next one already here.
std::size_t buffer_capacity(const ServerOptions& o) {
  return 2 * fetch_batch_size(o);
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
      buffer(buffer_capacity(options), fetch_batch_size(options)) {}

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
