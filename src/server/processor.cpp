// Processor: runs one fetched job (Sidekiq's Processor#process + JobRetry + JobLogger) and
// hands it on: ack on success, retry set / dead set / drop on failure. Bad input never throws
// out of here and never loses the entry (it goes to the dead set with a clear error).
#include <chrono>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "core/run_job.hpp"
#include "server/payload.hpp"
#include "server/state.hpp"

namespace kiq::server {

namespace {

std::string job_log_context(const Json& job) {
  auto str = [&](const char* key) -> std::string {
    auto it = job.find(key);
    return (it != job.end() && it->is_string()) ? it->get<std::string>() : std::string();
  };
  std::string cls = str("display_class");
  if (cls.empty()) cls = str("wrapped");
  if (cls.empty()) cls = str("class");
  std::string ctx = fmt::format("class={} jid={} ", cls, str("jid"));
  if (auto tags = job.find("tags"); tags != job.end() && tags->is_array() && !tags->empty()) {
    std::string joined;
    for (const auto& t : *tags) {
      if (!joined.empty()) joined += ',';
      joined += t.is_string() ? t.get<std::string>() : t.dump();
    }
    ctx += fmt::format("tags={} ", joined);
  }
  return ctx;
}

std::string serialize(const Json& job) {
  // Never throws: invalid UTF-8 that slipped into a string is replaced, not fatal.
  return job.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Store calls after the job: a failure here leaves the job in the in-progress list, from where
// orphan recovery brings it back (at-least-once), so log and carry on.
template <class F>
void store_call(State& state, std::string_view what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log_line(*state.logger, spdlog::level::err, "",
             fmt::format("{} failed: {} (the job stays in progress and will be recovered)", what, e.what()));
  }
}

// What is wrong with a parsed payload, or empty if it is a runnable job hash.
std::string validation_error(const Json& job) {
  if (!job.is_object()) return fmt::format("job payload is a JSON {}, not an object", job.type_name());
  auto cls = job.find("class");
  if (cls == job.end()) return "job hash has no \"class\"";
  if (!cls->is_string() || cls->get_ref<const std::string&>().empty())
    return "job \"class\" must be a non-empty string";
  auto args = job.find("args");
  if (args == job.end()) return "job hash has no \"args\"";
  if (!args->is_array()) return fmt::format("job \"args\" must be an array, not {}", args->type_name());
  if (auto jid = job.find("jid"); jid != job.end() && !jid->is_string()) return "job \"jid\" must be a string";
  return {};
}

// Bad input goes to the dead set as a job hash the Web UI can show: the original hash when it
// was an object (keys kept), or a wrapper keeping the raw payload as "raw_payload".
void kill_invalid(State& state, const FetchedJob& fetched, const Json* parsed, const std::string& error) {
  double now = epoch_now();
  Json job;
  if (parsed && parsed->is_object()) {
    job = *parsed;
    if (auto jid = job.find("jid"); jid == job.end() || !jid->is_string()) {
      if (jid != job.end()) job["invalid_jid"] = *jid;
      job["jid"] = new_jid();
    }
  } else {
    job = Json{{"class", "kiq::InvalidJob"}, {"args", Json::array()}, {"queue", fetched.queue},
               {"jid", new_jid()}, {"created_at", now}, {"retry", false},
               {"raw_payload", scrub_utf8(fetched.payload, fetched.payload.size() + 1)}};
  }
  job["error_class"] = "kiq::InvalidJob";
  job["error_message"] = scrub_utf8(error, 10000);
  job["failed_at"] = now;
  log_line(*state.logger, spdlog::level::err, job_log_context(job),
           fmt::format("invalid job from queue {} moved to the dead set: {}", fetched.queue, error));
  state.processed++;
  state.failed++;
  state.unflushed_processed++;
  state.unflushed_failed++;
  state.dead++;
  store_call(state, "ack_and_kill", [&] {
    state.store->ack_and_kill(state.identity, fetched, now, serialize(job), state.options.dead_limits);
  });
}

// Registers the job in the work table; returns false if shutdown already requeued it (it was
// in this worker's hands, not yet started, at the deadline): then it must not run here.
bool mark_running(WorkerSlot& slot) {
  std::lock_guard lock(slot.mu);
  if (std::exchange(slot.abandoned_in_hand, false)) return false;
  slot.running = true;
  slot.run_at = static_cast<std::int64_t>(epoch_now());
  slot.abandoned = false;
  return true;
}

// True (once) if shutdown requeued this worker's not-yet-started job at the deadline.
bool requeued_at_deadline(WorkerSlot& slot) {
  std::lock_guard lock(slot.mu);
  return std::exchange(slot.abandoned_in_hand, false);
}

// Removes the job from the work table; false if shutdown already requeued it (result dropped).
bool finish_running(WorkerSlot& slot) {
  std::lock_guard lock(slot.mu);
  if (!slot.running) return false;
  slot.running = false;
  return !slot.abandoned;
}

void handle_failure(State& state, const FetchedJob& fetched, const Json& job, const JobType* type,
                    const std::exception& error, std::string context, double elapsed) {
  // Skipped on the hot path (see process_job): built here, when a line is written.
  if (context.empty() && state.logger->should_log(spdlog::level::warn)) context = job_log_context(job);
  state.processed++;
  state.failed++;
  state.unflushed_processed++;
  state.unflushed_failed++;
  if (state.options.log_jobs)
    log_line(*state.logger, spdlog::level::info, context + fmt::format("elapsed={:.3f} ", elapsed), "fail");
  log_line(*state.logger, spdlog::level::warn, context,
           fmt::format("{}: {}", error_class_name(error), error.what()));
  double now = epoch_now();
  RetryDecision d = state.retry_policy.on_failure(job, fetched.queue, type ? &type->options : nullptr,
                                                  error, now);
  switch (d.outcome) {
    case FailureOutcome::kRetry:
      state.retried++;
      store_call(state, "ack_and_retry", [&] {
        state.store->ack_and_retry(state.identity, fetched, d.retry_at, serialize(d.job));
      });
      break;
    case FailureOutcome::kDead:
      state.dead++;
      store_call(state, "ack_and_kill", [&] {
        state.store->ack_and_kill(state.identity, fetched, now, serialize(d.job), state.options.dead_limits);
      });
      break;
    case FailureOutcome::kDropped:
      store_call(state, "ack", [&] { state.store->ack(state.identity, fetched); });
      break;
  }
}

}  // namespace

void process_job(State& state, WorkerSlot& slot, const FetchedJob& fetched) {
  ParsedPayload payload = parse_payload(fetched.payload);  // invalid or too deep: a clear error
  if (!payload.ok()) {
    if (!requeued_at_deadline(slot)) kill_invalid(state, fetched, nullptr, payload.error);
    return;
  }
  Json parsed = std::move(payload.job);
  if (std::string problem = validation_error(parsed); !problem.empty()) {
    if (!requeued_at_deadline(slot)) kill_invalid(state, fetched, &parsed, problem);
    return;
  }

  std::string cls = parsed["class"].get<std::string>();  // a copy: middleware may edit the hash
  const JobType* type = state.registry.find(cls);
  // Built up front only for the per-job start/done lines; a failure builds it when it logs.
  std::string context = state.options.log_jobs && state.logger->should_log(spdlog::level::info)
                            ? job_log_context(parsed) : "";
  if (!mark_running(slot)) return;  // requeued at the shutdown deadline
  // Only the per-job log lines show the elapsed time: no clock reads for it otherwise.
  const auto start = state.options.log_jobs ? std::chrono::steady_clock::now()
                                            : std::chrono::steady_clock::time_point{};
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (state.options.log_jobs) log_line(*state.logger, spdlog::level::info, context, "start");

  JobContext ctx(std::move(parsed), fetched.queue, type, state.client, *state.store,
                 state.options.max_retries);
  std::optional<std::runtime_error> non_std;
  try {
    if (!type)
      throw UnknownJobClass(fmt::format("unknown job class {} (not registered with this kiq server)", cls));
    detail::run_job(state.options.server_middleware, ctx, *type);
  } catch (const std::exception& e) {
    if (finish_running(slot)) handle_failure(state, fetched, ctx.job(), type, e, context, elapsed());
    return;
  } catch (...) {
    non_std.emplace("job threw a non-std::exception value");
  }
  if (!finish_running(slot)) return;  // requeued at shutdown: the next run will report
  if (non_std) {
    handle_failure(state, fetched, ctx.job(), type, *non_std, context, elapsed());
    return;
  }
  state.processed++;
  state.unflushed_processed++;
  if (state.options.log_jobs)
    log_line(*state.logger, spdlog::level::info, context + fmt::format("elapsed={:.3f} ", elapsed()), "done");
  store_call(state, "ack", [&] { state.store->ack(state.identity, fetched); });
}

void run_processor(State& state, WorkerSlot& slot) {
  // Every 8th job is timed for the adaptive fetch batch: enough for a moving average, and two
  // clock reads fewer for the rest.
  constexpr unsigned kTimeEvery = 8;
  unsigned count = 0;
  while (auto job = state.buffer.pop()) {
    {
      std::lock_guard lock(slot.mu);
      slot.in_hand = &*job;
    }
    // Refill before running: the round trip overlaps the other workers' jobs.
    fetch_as_worker(state);
    const bool timed = count++ % kTimeEvery == 0;
    const auto taken = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    process_job(state, slot, *job);
    {
      std::lock_guard lock(slot.mu);
      slot.in_hand = nullptr;
    }
    if (timed) state.buffer.note_job_time(std::chrono::steady_clock::now() - taken);
  }
}

}  // namespace kiq::server
