// Scheduled poller: due retries, then due scheduled jobs, back to their queues through the
// client middleware (Sidekiq's Scheduled::Poller with its interval and jitter).
#include <random>
#include <span>

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

// Hands one due entry on: pushed through the client, or buried when it is not a valid job.
// Store failures propagate.
void hand_on(State& state, const std::string& payload, PushOrigin origin, double now,
             std::size_t& moved) {
  ParsedPayload parsed = parse_payload(payload);
  if (!parsed.ok()) {
    bury(state, payload, "scheduled " + parsed.error, now);
    return;
  }
  try {
    state.client.push(std::move(parsed.job), origin);
    ++moved;
  } catch (const std::invalid_argument& e) {
    bury(state, payload, e.what(), now);
  }
}

// Claim, hand on, complete, one batch at a time: pop_due records the batch as claimed by this
// identity, so a crash or a lost reply anywhere before complete_claims loses nothing (the
// claims go back to the set through restore_claims or orphan recovery). At-least-once: if
// complete_claims itself fails, the handed-on entries come back and run again.
std::size_t enqueue_set(State& state, SortedSetName set, PushOrigin origin, double now) {
  std::size_t moved = 0;
  for (;;) {
    auto due = state.store->pop_due(state.identity, set, now, kPopLimit);
    std::size_t handed = 0;  // due[0, handed) are pushed or buried
    try {
      for (; handed < due.size(); ++handed) hand_on(state, due[handed], origin, now, moved);
    } catch (const std::exception&) {
      // The rest stay claimed (run_scheduled_poller restores them next round); forget the
      // handed-on ones so they are not enqueued twice.
      try {
        state.store->complete_claims(state.identity, set, std::span(due).first(handed));
      } catch (const std::exception& again) {
        log_line(*state.logger, spdlog::level::warn, "",
                 fmt::format("could not complete {} scheduler claims ({}): they may run twice",
                             handed, again.what()));
      }
      throw;
    }
    state.store->complete_claims(state.identity, set, due);
    if (due.size() < kPopLimit || state.stopping) return moved;
  }
}

// Puts back what a failed round left claimed; true when nothing is left claimed.
bool restore_own_claims(State& state) {
  try {
    std::size_t n = state.store->restore_claims(state.identity);
    if (n > 0)
      log_line(*state.logger, spdlog::level::info, "",
               fmt::format("scheduled poller: put {} claimed entries back after a failed round", n));
    return true;
  } catch (const std::exception&) {
    return false;
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
  bool claims_left = false;  // a failed round may have left claims (only this thread makes them)
  auto restore_if_needed = [&] {
    if (claims_left) claims_left = !restore_own_claims(state);
  };
  while (!state.stopping) {
    try {
      restore_if_needed();
      if (claims_left) throw StoreError("claimed entries of a failed round could not be restored yet");
      enqueue_due_jobs(state, epoch_now());
      outage = false;
    } catch (const std::exception& e) {
      if (!outage) log_line(*state.logger, spdlog::level::err, "", fmt::format("scheduled poller: {}", e.what()));
      outage = true;
      claims_left = true;
    }
    if (state.sleep_for(random_poll_interval(state), /*poll=*/true)) break;
  }
  restore_if_needed();  // else orphan recovery restores them once this process is gone
}

}  // namespace kiq::server
