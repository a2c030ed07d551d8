// RetryPolicy: Sidekiq's JobRetry (attempt_retry, delay_for, retries_exhausted, send_to_morgue).
#include "kiq/retry.hpp"

#include <climits>
#include <random>

#include "core/json_int.hpp"

namespace kiq {

namespace {

// The effective `retry`: the payload's key wins (Sidekiq merges the class options into the hash
// at push); without one, the type's option; an unknown class without the key is not retried.
RetryOption effective_retry(const Json& job, const JobOptions* type_options) {
  if (auto it = job.find("retry"); it != job.end()) return RetryOption::from_json(*it);
  return type_options ? type_options->retry : RetryOption(false);
}

bool goes_to_morgue(const Json& job, const JobOptions* type_options) {
  if (auto it = job.find("dead"); it != job.end()) return !(it->is_boolean() && !it->get<bool>());
  return type_options ? type_options->dead : true;
}

BacktraceOption effective_backtrace(const Json& job, const JobOptions* type_options) {
  if (auto it = job.find("backtrace"); it != job.end()) return BacktraceOption::from_json(*it);
  return type_options ? type_options->backtrace : BacktraceOption(false);
}

// Saturates rather than overflows: a count already at INT_MAX is past any max and exhausts.
int next_retry_count(const Json& job) {
  auto it = job.find("retry_count");
  std::optional<int> count = retry_count_value(it == job.end() ? nullptr : &*it);
  if (!count) return 0;
  return *count == INT_MAX ? INT_MAX : *count + 1;
}

int rand10() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, 9)(gen);
}

// The retry_in answer, or nullopt for "use the default"; a throwing retry_in means default too
// (Sidekiq logs and falls back).
std::optional<RetryInResult> ask_retry_in(int count, const Json& job, const JobOptions* type_options,
                                          const std::exception& error) {
  if (!type_options || !type_options->retry_in) return std::nullopt;
  try {
    return type_options->retry_in(count, error, job);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

double default_retry_delay(int count) {
  double c = count;
  return c * c * c * c + 15;
}

double retry_jitter(int count, int rand10_value) {
  return double(rand10_value) * (double(count) + 1);  // in double: count may be INT_MAX
}

FailureOutcome RetryPolicy::outcome_if_failed(const Json& job, const JobOptions* type_options,
                                              const std::exception& error) const {
  RetryOption retry = effective_retry(job, type_options);
  if (!retry.enabled()) return FailureOutcome::kDropped;
  auto exhausted = [&] {
    return goes_to_morgue(job, type_options) ? FailureOutcome::kDead : FailureOutcome::kDropped;
  };
  int count = next_retry_count(job);
  int max = retry.count().value_or(options_.max_retries);
  if (count >= max) return exhausted();
  if (auto answer = ask_retry_in(count, job, type_options, error)) {
    if (auto* directive = std::get_if<RetryIn>(&*answer))
      return *directive == RetryIn::kKill ? exhausted() : FailureOutcome::kDropped;
  }
  return FailureOutcome::kRetry;
}

double RetryPolicy::delay_for(int count, const Json& job, const JobOptions* type_options,
                              const std::exception& error, std::optional<RetryIn>* directive) const {
  double delay = default_retry_delay(count);
  if (auto answer = ask_retry_in(count, job, type_options, error)) {
    if (auto* d = std::get_if<RetryIn>(&*answer)) {
      if (directive) *directive = *d;
    } else if (auto seconds = std::get<std::chrono::seconds>(*answer); seconds.count() > 0) {
      delay = static_cast<double>(seconds.count());
    }
  }
  return delay + retry_jitter(count, rand10());
}

RetryDecision RetryPolicy::on_failure(const Json& job, std::string_view queue,
                                      const JobOptions* type_options, const std::exception& error,
                                      double now) const {
  RetryDecision d;
  d.job = job.is_object() ? job : Json::object();
  Json& msg = d.job;
  RetryOption retry = effective_retry(msg, type_options);

  std::string retry_queue(queue);
  if (auto it = msg.find("retry_queue"); it != msg.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
    retry_queue = it->get<std::string>();
  else if (type_options && type_options->retry_queue && !msg.contains("retry_queue"))
    retry_queue = *type_options->retry_queue;
  d.queue = retry_queue;
  if (!retry.enabled()) {  // Sidekiq: death handlers only; the job leaves Redis
    d.outcome = FailureOutcome::kDropped;
    return d;
  }

  msg["queue"] = retry_queue;
  msg["error_message"] = scrub_utf8(error.what(), 10000);
  msg["error_class"] = error_class_name(error);
  // Sidekiq: "retried_at" whenever retry_count was present, even at -1 (a Web UI "Retry now"
  // of a first failure decrements 0 to -1, and the next failure makes it 0 again).
  const bool had_count = msg.contains("retry_count") && msg["retry_count"].is_number_integer();
  int count = next_retry_count(msg);
  msg["retry_count"] = count;
  msg[had_count ? "retried_at" : "failed_at"] = now;
  if (BacktraceOption bt = effective_backtrace(msg, type_options); bt.enabled()) {
    auto lines = current_backtrace(1);
    if (bt.lines() && lines.size() > static_cast<std::size_t>(*bt.lines())) lines.resize(*bt.lines());
    msg["error_backtrace"] = encode_backtrace(lines);
  }
  msg.erase("scheduled_at");  // kiq's drift marker belongs to the original schedule only

  auto exhaust = [&] {
    if (type_options && type_options->retries_exhausted) {
      try {
        type_options->retries_exhausted(msg, error);
      } catch (...) {
        // Sidekiq logs and carries on to the morgue; the server logs the job's failure anyway.
      }
    }
    d.outcome = goes_to_morgue(msg, type_options) ? FailureOutcome::kDead : FailureOutcome::kDropped;
    return d;
  };

  int max = retry.count().value_or(options_.max_retries);
  if (count >= max) return exhaust();
  std::optional<RetryIn> directive;
  double delay = delay_for(count, msg, type_options, error, &directive);
  if (directive == RetryIn::kDiscard) {
    d.outcome = FailureOutcome::kDropped;
    return d;
  }
  if (directive == RetryIn::kKill) return exhaust();
  d.outcome = FailureOutcome::kRetry;
  d.retry_at = now + delay * options_.time_scale;
  return d;
}

}  // namespace kiq
