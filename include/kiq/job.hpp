// Jobs: per-type options, the registry of job types, and the context a running job sees.
//
// A job type is known by its Sidekiq class name (the "class" string of the job hash, e.g.
// "UserNotificationJob"), so Ruby and kiq can enqueue work for each other.
//
//   kiq::JobRegistry registry;
//   registry.add("HardJob", [](kiq::JobContext& ctx, const kiq::Json& args) { ... },
//                {.queue = "critical", .retry = 5});
//   registry.add<UserNotificationJob>();   // class with name, options(), perform()
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "kiq/middleware.hpp"

namespace kiq {

class Client;
class KeyValue;
class Store;

// ---- options ---------------------------------------------------------------------------------

// Sidekiq's `retry` option: true (25 retries), false (no retry, no dead set) or a count.
// Written to the job hash exactly as JSON true / false / integer.
// Thread-safety: value type.
class RetryOption {
 public:
  RetryOption(bool enabled) : enabled_(enabled) {}  // NOLINT: implicit on purpose ({.retry=false})
  RetryOption(int count) : enabled_(true), count_(count) {}  // NOLINT ({.retry=5})

  bool enabled() const { return enabled_; }
  // The explicit count, if one was given (max retries = count, or 25 when only `true`).
  std::optional<int> count() const { return count_; }
  Json to_json() const { return count_ ? Json(*count_) : Json(enabled_); }
  // Reads a job hash's "retry" value with Sidekiq's rules: an integer is a count, anything
  // else truthy (true, non-integer numbers, strings...) means true; null/false/missing false.
  static RetryOption from_json(const Json& value);

  friend bool operator==(const RetryOption&, const RetryOption&) = default;

 private:
  bool enabled_;
  std::optional<int> count_;
};

// Sidekiq's `backtrace` option: false (none), true (whole backtrace) or N (first N lines).
// Thread-safety: value type.
class BacktraceOption {
 public:
  BacktraceOption(bool enabled) : enabled_(enabled) {}  // NOLINT
  BacktraceOption(int lines) : enabled_(lines > 0), lines_(lines) {}  // NOLINT

  bool enabled() const { return enabled_; }
  std::optional<int> lines() const { return lines_; }
  Json to_json() const { return lines_ ? Json(*lines_) : Json(enabled_); }
  static BacktraceOption from_json(const Json& value);

  friend bool operator==(const BacktraceOption&, const BacktraceOption&) = default;

 private:
  bool enabled_;
  std::optional<int> lines_;
};

// What a custom retry_in function may return besides a delay (Sidekiq's :kill / :discard).
enum class RetryIn {
  kKill,     // exhausted now: retries_exhausted callback, then dead set
  kDiscard,  // drop silently: no retry, no dead set, no callback
};
using RetryInResult = std::variant<std::chrono::seconds, RetryIn>;
// Called with the retry count about to be stored (0 on the first failure). Return nullopt
// (or a non-positive delay) to use Sidekiq's default formula. May be called more than once for
// the same failure (see JobContext::outcome_if_failed), so keep it free of side effects.
using RetryInFn = std::function<std::optional<RetryInResult>(
    int retry_count, const std::exception& error, const Json& job)>;
// Called once when a job has used up its retries (before the dead set).
using RetriesExhaustedFn = std::function<void(const Json& job, const std::exception& error)>;

// Per-type options (Sidekiq's sidekiq_options). queue/retry/backtrace/dead/retry_queue/tags are
// written into every job hash pushed for the type; the functions stay in-process.
// Thread-safety: value type; the functions must be thread-safe (any worker may call them).
struct JobOptions {
  std::string queue = "default";
  RetryOption retry = true;
  BacktraceOption backtrace = false;
  bool dead = true;                        // false: exhausted jobs skip the dead set
  std::optional<std::string> retry_queue;  // retries go here instead of the job's queue
  std::vector<std::string> tags;
  RetryInFn retry_in;
  RetriesExhaustedFn retries_exhausted;
};

// What the server will do with a job if the current attempt fails.
enum class FailureOutcome {
  kRetry,    // goes to the retry set
  kDead,     // retries exhausted (or retry: 0 / RetryIn::kKill): dead set
  kDropped,  // retry: false, dead: false or RetryIn::kDiscard: removed without a trace
};
std::string_view to_string(FailureOutcome outcome);

// ---- the running job -------------------------------------------------------------------------

struct JobType;

// Everything a running job and the server middleware see: the job hash (mutable, so middleware
// may add keys), where it came from, and facilities (a Client on the same store, the store's
// key-value API).
// Thread-safety: one JobContext per running job, used by that job's thread only; the Client and
// KeyValue it hands out are themselves thread-safe.
class JobContext {
 public:
  // Created by the server (and kiq::testing); `type` is null when the class is unknown.
  JobContext(Json job, std::string queue, const JobType* type, Client& client, Store& store,
             int max_retries = 25);

  Json& job() { return job_; }
  const Json& job() const { return job_; }
  // The "args" array (an empty array if the hash has none).
  const Json& args() const;
  std::string jid() const;
  std::string job_class() const;
  // The queue the job was fetched from (Sidekiq ignores the payload's "queue" for this).
  const std::string& queue() const { return queue_; }
  // nullopt on the first run; 0 on the first retry (Sidekiq's retry_count semantics).
  std::optional<int> retry_count() const;
  bool is_retry() const { return retry_count().has_value(); }
  std::optional<double> created_at() const;
  std::optional<double> enqueued_at() const;
  // The run-at the client asked for (kiq's extra "scheduled_at" key; Sidekiq drops "at").
  std::optional<double> scheduled_at() const;
  // The type's options; null when the class is not registered.
  const JobOptions* options() const;
  const JobType* type() const { return type_; }

  // A Client bound to the same store and client middleware: jobs enqueued from inside a job
  // carry its context (e.g. trace propagation).
  Client& client() { return client_; }
  Store& store() { return store_; }
  KeyValue& kv();

  // Would the job be retried if the current attempt threw `error`? (tracing marks the span.)
  FailureOutcome outcome_if_failed(const std::exception& error) const;
  bool will_retry_on_failure() const;

 private:
  Json job_;
  std::string queue_;
  const JobType* type_;
  Client& client_;
  Store& store_;
  int max_retries_;
};

// ---- registry --------------------------------------------------------------------------------

using PerformFn = std::function<void(JobContext& ctx, const Json& args)>;

// A registered type. Thread-safety: immutable once registered.
struct JobType {
  std::string name;
  JobOptions options;
  PerformFn perform;
};

// Job types by class name. The application owns its registry (no global one) and passes it to
// Server / testing; Client can use it to apply per-type options to string class names.
// Thread-safety: build it before use; afterwards it is read-only and safe to share.
class JobRegistry {
 public:
  // Registers (or replaces) a type. Throws std::invalid_argument for an empty name or perform.
  JobRegistry& add(std::string name, PerformFn perform, JobOptions options = {});

  // A class with `static constexpr const char* name`, optional `static JobOptions options()`
  // and `void perform(JobContext&, const Json& args)`; a fresh instance runs each job.
  template <class T>
  JobRegistry& add() {
    return add(T::name, [](JobContext& ctx, const Json& args) { T().perform(ctx, args); },
               options_of<T>());
  }

  const JobType* find(std::string_view name) const;
  std::vector<std::string> names() const;
  std::size_t size() const { return types_.size(); }

  template <class T>
  static JobOptions options_of() {
    if constexpr (requires { T::options(); }) {
      return T::options();
    } else {
      return {};
    }
  }

 private:
  std::map<std::string, JobType, std::less<>> types_;
};

// ---- helpers ---------------------------------------------------------------------------------

// Epoch seconds with microsecond resolution (Sidekiq's Time.now.to_f).
double epoch_now();
// A new job id: 24 lowercase hex chars (SecureRandom.hex(12)).
std::string new_jid();

// Thrown (and recorded as error_class) for job hashes the server cannot run.
// Thread-safety (both exceptions): value types.
class InvalidJob : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Thrown when a job names a class the registry does not know (Sidekiq's NameError).
class UnknownJobClass : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kiq
