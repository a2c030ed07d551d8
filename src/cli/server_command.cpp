// `kiq server`: runs a kiq::Server until SIGTERM/SIGINT (graceful stop within --timeout) or
// SIGTSTP (quiet: finish running jobs, fetch no more).
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/signal_watcher.hpp"
#include "cli/tracing_setup.hpp"
#include "kiq/kiq.hpp"

namespace kiq::cli {
namespace {

struct ServerFlags {
  int concurrency = 10;
  std::vector<std::string> queues;
  double timeout_s = 25;
  std::string redis;
  bool strict = false;
  std::string tag;
  std::vector<std::string> labels;
  double poll_interval_s = 0;
  double heartbeat_interval_s = 5;
  int process_ttl_s = 60;
  double orphan_check_interval_s = 5;  // with the 60 s TTL: orphans back within 65 s
  std::size_t fetch_batch = 0;
  bool verbose = false;
  bool quiet = false;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

ServerOptions to_options(const ServerFlags& f) {
  ServerOptions o;
  o.concurrency = f.concurrency;
  if (!f.queues.empty()) {
    o.queues.clear();
    for (const std::string& q : f.queues) {
      try {
        o.queues.push_back(QueueWeight::parse(q));
      } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--queue: {}", without_kiq_prefix(e.what())));
      }
    }
  }
  o.strict = f.strict;
  o.timeout = millis(f.timeout_s);
  o.poll_interval_average = millis(f.poll_interval_s);
  o.heartbeat_interval = millis(f.heartbeat_interval_s);
  o.process_ttl = std::chrono::seconds(f.process_ttl_s);
  o.orphan_check_interval = millis(f.orphan_check_interval_s);
  o.fetch_batch = f.fetch_batch;
  o.tag = f.tag;
  o.labels = f.labels;
  o.log_jobs = !f.quiet;
  o.logger = make_sidekiq_logger();
  o.logger->set_level(f.verbose ? spdlog::level::debug : spdlog::level::info);
  return o;
}

std::string queue_list(const ServerOptions& o) {
  std::vector<std::string> names;
  for (const QueueWeight& q : o.queues) {
    names.push_back(q.weight > 0 ? fmt::format("{},{}", q.name, q.weight) : q.name);
  }
  return fmt::format("{}", fmt::join(names, " "));
}

// glibc gives busy threads arenas of their own (up to 8 per core), and a worker that fetched a
// batch leaves its freed memory cached in its arena: with 10 workers that was ~8 MB of a
// no-op drain's RSS. One arena keeps the peak of `kiq server -c 10` at ~8.5-8.8 MB instead of
// 9.0-9.9 with two, at no CPU difference measured on the drain (tcache serves most small
// allocations without the arena lock). Jobs that allocate heavily from many threads at once
// may prefer more: MALLOC_ARENA_MAX in the environment wins.
void limit_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
}

int run_server(Env& env, const ServerFlags& flags) {
  limit_malloc_arenas();  // before any thread starts
  ServerOptions options = to_options(flags);
  // Signals first: every thread started from here on (store pools, server workers) inherits
  // the blocked mask, so SIGTERM/SIGINT/SIGTSTP only ever reach the watcher's sigwait.
  std::atomic<Server*> running{nullptr};
  std::atomic<bool> stop_early{false};
  SignalWatcher watcher({
      .stop = [&] { if (Server* s = running.load()) s->request_stop(); else stop_early = true; },
      .quiet = [&] { if (Server* s = running.load()) s->quiet(); },
  });

  spdlog::set_default_logger(options.logger);  // the store's connection messages: same format
  ExitGraceGuard tracing = setup_server_tracing(options);  // after the signal mask
  StoreChoice choice = resolve_store(flags.redis);
  std::shared_ptr<Store> store = open_store(choice);
  auto logger = options.logger;
  Server server(std::move(options), env.jobs, store);
  logger->info("kiq {} starting: identity {}, concurrency {}, queues {}{}, store {}", kVersion,
               server.identity(), server.options().concurrency, queue_list(server.options()),
               server.options().strict ? " (strict)" : "", choice.describe());
  if (choice.embedded()) {
    logger->info("embedded store: only jobs enqueued inside this process are seen; use --redis "
                 "or REDIS_URL to share jobs with `kiq enqueue` and other processes");
  }
  running = &server;
  if (stop_early) server.request_stop();
  server.run();
  running = nullptr;
  tracing.guard.shutdown(kTracingExitGrace);  // not held by a collector that is down
  logger->info("kiq stopped: {} jobs processed, {} failed", server.stats().processed,
               server.stats().failed);
  return kExitOk;
}

}  // namespace

void install_server(CLI::App& app, Env& env, Dispatch& dispatch) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server", "Runs jobs until SIGTERM/SIGINT (graceful stop) or SIGTSTP (quiet)");
  // A repeated single-value option: the last one wins (scripts append overrides).
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("-c,--concurrency", flags->concurrency, "Worker threads")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("-q,--queue", flags->queues,
                  "Queue to process, as name or name,weight; repeatable, in priority order "
                  "(default: default)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->allow_extra_args(false);
  cmd->add_option("-t,--timeout", flags->timeout_s,
                  "Seconds running jobs get to finish on stop before they go back to their queue")
      ->capture_default_str()->check(seconds_in(0, kMaxDurationSeconds));
  add_redis_option(*cmd, flags->redis);
  cmd->add_flag("--strict", flags->strict, "Strict queue priority, ignoring weights");
  cmd->add_option("--tag", flags->tag, "Tag shown in Sidekiq's Web UI for this process");
  cmd->add_option("--label", flags->labels, "Label shown in the Web UI; repeatable")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->allow_extra_args(false);
  cmd->add_option("--poll-interval", flags->poll_interval_s,
                  "Average seconds between scheduled/retry polls (default: Sidekiq's rule, "
                  "5 s x number of processes)")
      ->check(seconds_in(0, kMaxDurationSeconds));
  cmd->add_option("--heartbeat-interval", flags->heartbeat_interval_s, "Seconds between heartbeats")
      ->capture_default_str()->check(seconds_in(kMinIntervalSeconds, kMaxDurationSeconds));
  cmd->add_option("--process-ttl", flags->process_ttl_s,
                  "Seconds a process entry lives without a heartbeat (then its jobs are orphans)")
      ->capture_default_str()->check(CLI::Range(1, static_cast<int>(kMaxDurationSeconds)));
  cmd->add_option("--orphan-check-interval", flags->orphan_check_interval_s,
                  "Seconds between looks for dead processes' in-progress jobs")
      ->capture_default_str()->check(seconds_in(kMinIntervalSeconds, kMaxDurationSeconds));
  // Unchecked, "-1" became SIZE_MAX (CLI11 wraps negative text for unsigned options).
  cmd->add_option("--fetch-batch", flags->fetch_batch, "Jobs per fetch (default 0: automatic)")
      ->check(CLI::Range(std::size_t{0}, ServerOptions::kMaxFetchBatch));
  auto* verbose = cmd->add_flag("-v,--verbose", flags->verbose, "Debug logging");
  cmd->add_flag("--quiet", flags->quiet, "No per-job start/done log lines")->excludes(verbose);
  cmd->callback([flags, &env, &dispatch] {
    dispatch.runner = [flags, &env] { return run_server(env, *flags); };
  });
}

}  // namespace kiq::cli
