// Scheduled poller: due retries, then due scheduled jobs, back to their queues through the
// client middleware (Sidekiq's Scheduled::Poller with its interval and jitter).
#include <random>

#include <fmt/format.h>

#include "server/payload.hpp"
#include "server/state.hpp"

namespace kiq::server {

namespace {

constexpr std::size_t kPopLimit = 100;

double uniform01() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

// Sidekiq: poll_interval_average if set, else process count x average_scheduled_poll_interval;
// sleep avg*rand + avg/2 (fewer than 10 processes) or avg*rand.
std::chrono::milliseconds random_poll_interval(State& state) {
  double avg_ms = static_cast<double>(state.options.poll_interval_average.count());
  std::size_t count = 1;
  if (avg_ms <= 0) {
    try {
      count = std::max<std::size_t>(1, state.store->processes().size());
    } catch (const std::exception&) {
      count = 1;
    }
    avg_ms = static_cast<double>(count * state.options.average_scheduled_poll_interval.count());
  }
  double ms = count < 10 ? avg_ms * uniform01() + avg_ms / 2 : avg_ms * uniform01();
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::chrono::milliseconds initial_wait(State& state) {
  if (state.options.initial_poll_delay.count() >= 0) return state.options.initial_poll_delay;
  if (state.options.poll_interval_average.count() > 0) return random_poll_interval(state);
  return std::chrono::milliseconds(static_cast<std::int64_t>(10000 + 5000 * uniform01()));
}

// A due entry that cannot be pushed (not JSON, not a job) goes to the dead set, never lost.
void bury(State& state, const std::string& payload, const std::string& error, double now) {
  // Too deep to copy safely: keep it only as the raw string (see payload.hpp).
  Json parsed = json_depth(payload) > kMaxJsonDepth ? Json() : Json::parse(payload, nullptr, false);
  Json job = parsed.is_object() ? parsed
                                : Json{{"class", "kiq::InvalidJob"}, {"args", Json::array()},
                                       {"jid", new_jid()}, {"retry", false},
                                       {"raw_payload", scrub_utf8(payload, payload.size() + 1)}};
  if (!job.contains("jid") || !job["jid"].is_string()) job["jid"] = new_jid();
  job["error_class"] = "kiq::InvalidJob";
  job["error_message"] = scrub_utf8(error, 10000);
  job["failed_at"] = now;
  log_line(*state.logger, spdlog::level::err, "", fmt::format("scheduled entry moved to the dead set: {}", error));
  state.store->add(SortedSetName::kDead, now, job.dump(-1, ' ', false, Json::error_handler_t::replace));
  state.store->trim_dead(now, state.options.dead_limits);
}

std::size_t enqueue_set(State& state, SortedSetName set, PushOrigin origin, double now) {
  std::size_t moved = 0;
  for (;;) {
    auto due = state.store->pop_due(set, now, kPopLimit);
    std::size_t i = 0;
    try {
      for (; i < due.size(); ++i) {
        const std::string& payload = due[i];
        ParsedPayload parsed = parse_payload(payload);
        if (!parsed.ok()) {
          bury(state, payload, "scheduled " + parsed.error, now);
          continue;
        }
        Json job = std::move(parsed.job);
        try {
          state.client.push(std::move(job), origin);
          ++moved;
        } catch (const std::invalid_argument& e) {
          bury(state, payload, e.what(), now);
        }
      }
    } catch (const std::exception&) {
      // The store failed after pop_due: put this entry AND every later one back so none is
      // lost, then give up for this round.
      for (; i < due.size(); ++i) {
        try {
          state.store->add(set, now, due[i]);
        } catch (const std::exception& again) {
          log_line(*state.logger, spdlog::level::err, "",
                   fmt::format("could not put a due job back ({}); its payload: {}", again.what(), due[i]));
        }
      }
      throw;
    }
    if (due.size() < kPopLimit || state.stopping) return moved;
  }
}

}  // namespace

std::size_t enqueue_due_jobs(State& state, double now) {
  struct Busy {  // lets drain() see entries that left the set but are not queued yet
    std::atomic<int>& n;
    explicit Busy(std::atomic<int>& c) : n(c) { ++n; }
    ~Busy() { --n; }
  } busy(state.polling);
  std::size_t n = enqueue_set(state, SortedSetName::kRetry, PushOrigin::kRetry, now);
  return n + enqueue_set(state, SortedSetName::kSchedule, PushOrigin::kScheduler, now);
}

void run_scheduled_poller(State& state) {
  if (state.sleep_for(initial_wait(state), /*poll=*/true)) return;
  bool outage = false;
  while (!state.stopping) {
    try {
      enqueue_due_jobs(state, epoch_now());
      outage = false;
    } catch (const std::exception& e) {
      if (!outage) log_line(*state.logger, spdlog::level::err, "", fmt::format("scheduled poller: {}", e.what()));
      outage = true;
    }
    if (state.sleep_for(random_poll_interval(state), /*poll=*/true)) return;
  }
}

}  // namespace kiq::server
