// Launcher: the public Server — starts and stops the fetcher, workers, poller and heartbeat
// (Sidekiq's Launcher + Manager).
#include <thread>

#include <fmt/format.h>

#include "kiq/server.hpp"
#include "kiq/kiq.hpp"
#include "server/state.hpp"
#include "util/deadline.hpp"

namespace kiq {

using server::State;
using server::log_line;
using server::name_this_thread;

class Server::Impl {
 public:
  Impl(ServerOptions options, JobRegistry registry, std::shared_ptr<Store> store)
      : state(std::make_shared<State>(validated(std::move(options)), std::move(registry),
                                      checked(std::move(store)))) {}

  ~Impl() {
    stop();
    std::thread t;
    {
      std::lock_guard lock(stopper_mu);
      t = std::move(stopper);
    }
    if (t.joinable()) t.join();
  }

  void start() {
    std::lock_guard lock(lifecycle_mu);
    // Stopped before it started (SIGTERM during `kiq server` start-up): start no threads, or
    // nobody would join them (stop() has already run and returns at once from now on).
    if (started || is_stopped()) return;
    started = true;
    State& s = *state;
    s.started_at = epoch_now();
    s.info_json = server::build_info_json(s);
    log_line(*s.logger, spdlog::level::info, "",
             fmt::format("kiq {} starting: identity={} concurrency={} queues={} store={}", kVersion,
                         s.identity, s.options.concurrency, fmt::join(s.queue_order.names(), ","),
                         s.store->describe()));
    try {
      server::beat(s);  // be visibly alive before owning in-progress jobs
      server::recover_orphans(s);
    } catch (const std::exception& e) {
      log_line(*s.logger, spdlog::level::err, "", fmt::format("startup heartbeat failed: {}", e.what()));
    }
    {
      std::lock_guard wl(s.workers_mu);
      s.worker_done.assign(static_cast<std::size_t>(s.options.concurrency), false);
    }
    for (int i = 0; i < s.options.concurrency; ++i) {
      workers.emplace_back([st = state, i] {
        name_this_thread(fmt::format("kiq-worker-{}", i));
        server::run_processor(*st, *st->slots[static_cast<std::size_t>(i)]);
        {
          std::lock_guard wl(st->workers_mu);
          st->worker_done[static_cast<std::size_t>(i)] = true;
        }
        st->workers_cv.notify_all();
      });
    }
    fetcher = std::thread([st = state] {
      name_this_thread("kiq-fetcher");
      server::run_fetcher(*st);
    });
    poller = std::thread([st = state] {
      name_this_thread("kiq-poller");
      server::run_scheduled_poller(*st);
    });
    heartbeat = std::thread([this, st = state] {
      name_this_thread("kiq-heartbeat");
      server::run_heartbeat(*st, [this](std::string_view sig) { on_signal(sig); });
    });
  }

  void quiet() {
    if (!state->quiet.exchange(true))
      log_line(*state->logger, spdlog::level::info, "", "quiet: no new jobs will be fetched");
  }

  void stop() {
    std::lock_guard lock(lifecycle_mu);
    if (stopped) return;
    if (started) shutdown();
    {
      std::lock_guard sl(stopped_mu);
      stopped = true;
    }
    stopped_cv.notify_all();
  }

  void request_stop() {
    std::lock_guard lock(stopper_mu);
    if (stopper.joinable()) return;
    stopper = std::thread([this] { stop(); });
  }

  bool wait_stopped(std::chrono::milliseconds timeout) {
    std::unique_lock lock(stopped_mu);
    return util::wait_at_most(stopped_cv, lock, timeout, [&] { return stopped; });
  }

  bool is_stopped() {
    std::lock_guard lock(stopped_mu);
    return stopped;
  }

  // Looks along the job's path, queue first: a job fetched between the queue check and the
  // in-progress check is still in progress (it leaves only when acked, after running), so it
  // cannot slip past. (Checking in-progress first missed a job fetched in between.)
  bool idle() {
    State& s = *state;
    for (const auto& q : s.queue_order.names())
      if (s.store->queue_size(q) > 0) return false;
    if (!s.store->in_progress(s.identity).empty()) return false;
    if (s.buffer.size() > 0) return false;
    return s.busy() == 0;
  }

  bool nothing_due() {
    double now = epoch_now();
    for (auto set : {SortedSetName::kRetry, SortedSetName::kSchedule}) {
      auto first = state->store->range(set, 0, 1);
      if (!first.empty() && first[0].score <= now) return false;
    }
    return state->polling.load() == 0;
  }

  bool wait_for(std::chrono::milliseconds timeout, bool include_due) {
    auto deadline = util::deadline_after(timeout);
    for (;;) {
      bool due_done = !include_due || nothing_due();
      if (due_done && idle() && (!include_due || nothing_due())) return true;
      if (include_due && !due_done) poll_now();
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void poll_now() {
    {
      std::lock_guard lock(state->wake_mu);
      state->poll_requested = true;
    }
    state->wake_cv.notify_all();
  }

  std::shared_ptr<State> state;

 private:
  static ServerOptions validated(ServerOptions o) {
    if (o.concurrency < 1) throw std::invalid_argument("kiq: concurrency must be at least 1");
    if (o.timeout.count() < 0) throw std::invalid_argument("kiq: timeout must not be negative");
    if (o.time_scale < 0) throw std::invalid_argument("kiq: time_scale must not be negative");
    if (o.fetch_batch > ServerOptions::kMaxFetchBatch) {
      throw std::invalid_argument(
          fmt::format("kiq: fetch_batch must be at most {}", ServerOptions::kMaxFetchBatch));
    }
    return o;
  }
  static std::shared_ptr<Store> checked(std::shared_ptr<Store> store) {
    if (!store) throw std::invalid_argument("kiq: Server needs a store");
    return store;
  }

  void on_signal(std::string_view sig) {
    if (sig == "TSTP") {
      quiet();
    } else if (sig == "TERM" || sig == "INT") {
      log_line(*state->logger, spdlog::level::info, "", fmt::format("{} received: stopping", sig));
      request_stop();
    } else if (sig == "TTIN") {
      log_line(*state->logger, spdlog::level::info, "",
               fmt::format("TTIN: {} job(s) running, {} buffered", state->busy(), state->buffer.size()));
    } else {
      log_line(*state->logger, spdlog::level::warn, "", fmt::format("ignoring unknown signal {}", sig));
    }
  }

  // Sidekiq's stop: quiet, requeue what was not started, wait for running jobs until the
  // deadline, requeue the rest, then remove the process.
  void shutdown() {
    State& s = *state;
    auto deadline = util::deadline_after(s.options.timeout);
    quiet();
    if (fetcher.joinable()) fetcher.join();
    s.buffer.close();
    server::requeue_jobs(s, s.buffer.take_all(), "buffered", true);

    std::vector<bool> done;
    {
      std::unique_lock wl(s.workers_mu);
      s.workers_cv.wait_until(wl, deadline, [&] {
        return std::all_of(s.worker_done.begin(), s.worker_done.end(), [](bool d) { return d; });
      });
      done = s.worker_done;
    }
    std::vector<FetchedJob> overdue;
    for (const auto& slot : s.slots) {
      std::lock_guard lock(slot->mu);
      if (!slot->in_hand) continue;
      if (slot->running) {
        if (slot->abandoned) continue;
        slot->abandoned = true;
      } else {
        // Taken from the buffer but not started yet (parsing, or the thread was descheduled):
        // requeue it too, or a detached worker would start it after the process is gone.
        if (slot->abandoned_in_hand) continue;
        slot->abandoned_in_hand = true;
      }
      overdue.push_back(*slot->in_hand);
    }
    server::requeue_jobs(s, overdue, "still running at the shutdown deadline", true);
    for (std::size_t i = 0; i < workers.size(); ++i) {
      if (done[i]) workers[i].join();
      else workers[i].detach();  // it holds the State; its result is dropped (job requeued)
    }
    workers.clear();

    s.stopping = true;
    s.wake_all();
    if (poller.joinable()) poller.join();
    if (heartbeat.joinable()) heartbeat.join();
    try {
      server::beat(s);  // flush the last stat deltas (Sidekiq's clear_heartbeat)
      s.store->remove_process(s.identity);
    } catch (const std::exception& e) {
      log_line(*s.logger, spdlog::level::err, "", fmt::format("final heartbeat failed: {}", e.what()));
    }
    log_line(*s.logger, spdlog::level::info, "", "stopped");
  }

  std::mutex lifecycle_mu;
  bool started = false;
  std::mutex stopped_mu;
  std::condition_variable stopped_cv;
  bool stopped = false;  // guarded by stopped_mu (written under lifecycle_mu too)
  std::mutex stopper_mu;
  std::thread stopper;
  std::vector<std::thread> workers;
  std::thread fetcher, poller, heartbeat;
};

Server::Server(ServerOptions options, JobRegistry registry, std::shared_ptr<Store> store)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(registry), std::move(store))) {}
Server::~Server() = default;

void Server::start() { impl_->start(); }
void Server::run() {
  impl_->start();
  while (!impl_->wait_stopped(std::chrono::hours(1))) {
  }
}
void Server::quiet() { impl_->quiet(); }
void Server::stop() { impl_->stop(); }
void Server::request_stop() { impl_->request_stop(); }
bool Server::running() const { return !impl_->is_stopped(); }
bool Server::quieted() const { return impl_->state->quiet.load(); }
bool Server::wait_stopped(std::chrono::milliseconds timeout) { return impl_->wait_stopped(timeout); }
bool Server::wait_until_idle(std::chrono::milliseconds timeout) { return impl_->wait_for(timeout, false); }
bool Server::drain(std::chrono::milliseconds timeout) { return impl_->wait_for(timeout, true); }
void Server::poll_now() { impl_->poll_now(); }

ServerStats Server::stats() const {
  const State& s = *impl_->state;
  ServerStats out;
  out.processed = s.processed;
  out.failed = s.failed;
  out.busy = s.busy();
  out.buffered = static_cast<std::int64_t>(s.buffer.size());
  out.retried = s.retried;
  out.dead = s.dead;
  out.requeued = s.requeued;
  out.recovered = s.recovered;
  return out;
}

const std::string& Server::identity() const { return impl_->state->identity; }
Client& Server::client() { return impl_->state->client; }
const ServerOptions& Server::options() const { return impl_->state->options; }

}  // namespace kiq
