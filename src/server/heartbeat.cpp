// Heartbeat (Sidekiq's Launcher#heartbeat): process hash, <identity>:work, stat deltas, signals.
#include <unistd.h>

#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "kiq/kiq.hpp"
#include "server/orphan_rules.hpp"
#include "server/state.hpp"

namespace kiq::server {

namespace {

std::string hostname() {
  if (const char* dyno = std::getenv("DYNO"); dyno && *dyno) return dyno;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string utc_date(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::vector<std::pair<std::string, std::string>> work_snapshot(State& state) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& slot : state.slots) {
    std::lock_guard lock(slot->mu);
    if (!slot->running || slot->abandoned) continue;
    Json w = {{"queue", slot->in_hand->queue}, {"payload", slot->in_hand->payload}, {"run_at", slot->run_at}};
    out.emplace_back(slot->tid, w.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  return out;
}

}  // namespace

std::int64_t rss_kb() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string build_info_json(const State& state) {
  Json weights = Json::object();
  for (const auto& q : state.options.queues) weights[q.name] = q.weight;
  Json info = {{"hostname", hostname()},
               {"started_at", state.started_at},
               {"pid", static_cast<std::int64_t>(getpid())},
               {"tag", state.options.tag},
               {"concurrency", state.options.concurrency},
               {"queues", state.queue_order.names()},
               {"labels", state.options.labels},
               {"identity", state.identity},
               {"weights", Json::array({weights})},
               {"version", kVersion},
               {"embedded", false},
               {kScopeInfoKey, local_process_scope()}};  // lets same-host peers see we died
  return info.dump();
}

std::optional<std::string> beat(State& state) {
  ProcessBeat b;
  b.identity = state.identity;
  b.info_json = state.info_json;
  b.work = work_snapshot(state);
  b.busy = static_cast<std::int64_t>(b.work.size());
  b.quiet = state.quiet.load();
  b.rss_kb = rss_kb();
  b.ttl = state.options.process_ttl;
  b.processed_delta = state.unflushed_processed.exchange(0);
  b.failed_delta = state.unflushed_failed.exchange(0);
  try {
    b.rtt_us = state.store->ping_us();
    b.beat = epoch_now();
    b.utc_date = utc_date(b.beat);
    auto signal = state.store->heartbeat(b);
    state.alive = true;
    return signal;
  } catch (...) {
    // Sidekiq restores the counters so the next beat flushes them.
    state.unflushed_processed += b.processed_delta;
    state.unflushed_failed += b.failed_delta;
    throw;
  }
}

void run_heartbeat(State& state, const std::function<void(std::string_view)>& on_signal) {
  bool outage = false;
  auto last_orphan_check = std::chrono::steady_clock::now();
  // Until the first beat succeeds nothing is fetched: retry within a second, not an interval.
  auto pause = [&] {
    return state.alive ? state.options.heartbeat_interval
                       : std::min(state.options.heartbeat_interval, std::chrono::milliseconds(1000));
  };
  while (!state.sleep_for(pause())) {
    const bool was_alive = state.alive;
    try {
      std::optional<std::string> sig;
      if (state.options.around_heartbeat) {
        state.options.around_heartbeat([&] { sig = beat(state); });
      } else {
        sig = beat(state);
      }
      if (sig) on_signal(*sig);
      if (outage) log_line(*state.logger, spdlog::level::info, "", "heartbeat: store reachable again");
      outage = false;
      if (!was_alive ||  // start-up's recovery was skipped with its failed beat
          std::chrono::steady_clock::now() - last_orphan_check >= state.options.orphan_check_interval) {
        last_orphan_check = std::chrono::steady_clock::now();
        recover_orphans(state);
      }
    } catch (const std::exception& e) {
      if (!outage) log_line(*state.logger, spdlog::level::err, "", fmt::format("heartbeat failed: {}", e.what()));
      outage = true;
    }
  }
}

}  // namespace kiq::server
