// Retry policy: Sidekiq's JobRetry semantics, exactly.
//
// On a failure the job hash gets error_message (<= 10,000 chars, valid UTF-8), error_class
// (demangled C++ type), retry_count (0 first time, then +1) with failed_at (first failure) or
// retried_at (later ones), and error_backtrace (base64(zlib(JSON array))) when the `backtrace`
// option asks. max = integer `retry` else 25; count >= max -> exhausted -> retries_exhausted
// callback -> dead set (unless dead: false). retry: false -> dropped. Delay = retry_in or
// count^4 + 15, plus rand(10) * (count + 1), times the time-scale knob.
//
// Thread-safety: RetryPolicy is immutable after construction and safe to share; the free
// functions are pure (apart from the random jitter).
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/job.hpp"
#include "kiq/store.hpp"

namespace kiq {

// Sidekiq's default delay in seconds (no jitter): count^4 + 15.
double default_retry_delay(int count);
// Sidekiq's jitter: rand(10) * (count + 1), with `rand10` in 0..9.
double retry_jitter(int count, int rand10);

// Demangled type name of the exception's dynamic type ("std::runtime_error", "app::Oops").
std::string error_class_name(const std::exception& error);
// Truncates to at most `max_chars` code points and replaces invalid UTF-8 with U+FFFD.
std::string scrub_utf8(std::string_view text, std::size_t max_chars = 10000);

// base64(zlib deflate(JSON array of lines)), strict base64 (what Sidekiq 7 writes).
std::string encode_backtrace(const std::vector<std::string>& lines);
// Inverse; accepts newlines in the base64 (Sidekiq 6.4). Throws std::invalid_argument.
std::vector<std::string> decode_backtrace(std::string_view encoded);
// The current thread's call stack as text lines (what kiq stores as a job's backtrace: C++
// exceptions carry no stack, so it is the stack where the failure was handled).
std::vector<std::string> current_backtrace(int skip = 0);

// Thread-safety: value type.
struct RetryPolicyOptions {
  int max_retries = 25;       // used when the job's retry is `true`
  double time_scale = 1.0;    // multiplies every delay (the demo shrinks backoff with this)
  DeadSetLimits dead_limits;
};

// What to do with a failed job; `job` is the updated hash to store. Thread-safety: value type.
struct RetryDecision {
  FailureOutcome outcome = FailureOutcome::kRetry;
  Json job;                  // hash with the error fields (also for kDead)
  double retry_at = 0;       // epoch seconds (kRetry)
  std::string queue;         // queue the retry goes to (retry_queue or the current queue)
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryPolicyOptions options = {}) : options_(std::move(options)) {}

  // The outcome without side effects (no callbacks except retry_in, no mutation).
  // `type_options` is null for an unknown class: only the payload's retry/dead keys count.
  FailureOutcome outcome_if_failed(const Json& job, const JobOptions* type_options,
                                   const std::exception& error) const;

  // Sidekiq's JobRetry: builds the updated hash and decides. Calls retries_exhausted when the
  // job is exhausted. `queue` is the queue the job was fetched from.
  RetryDecision on_failure(const Json& job, std::string_view queue, const JobOptions* type_options,
                           const std::exception& error, double now) const;

  // The delay in seconds before retry `count` (before time scaling): retry_in or the default,
  // plus jitter. If retry_in answers kKill / kDiscard, *directive is set (when non-null) and the
  // returned delay is meaningless.
  double delay_for(int count, const Json& job, const JobOptions* type_options,
                   const std::exception& error, std::optional<RetryIn>* directive) const;

  const RetryPolicyOptions& options() const { return options_; }

 private:
  RetryPolicyOptions options_;
};

}  // namespace kiq
