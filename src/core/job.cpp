// Job options, the registry, JobContext accessors, jid and clock helpers.
#include "kiq/job.hpp"

#include <chrono>
#include <random>
#include <stdexcept>

#include "core/json_int.hpp"
#include "kiq/client.hpp"
#include "kiq/retry.hpp"
#include "kiq/store.hpp"

namespace kiq {

RetryOption RetryOption::from_json(const Json& value) {
  if (value.is_number_integer()) return RetryOption(saturated_int(value));
  if (value.is_null()) return RetryOption(false);
  if (value.is_boolean()) return RetryOption(value.get<bool>());
  return RetryOption(true);  // Ruby truthiness: any other value (even 5.0 or "x") means true
}

BacktraceOption BacktraceOption::from_json(const Json& value) {
  if (value.is_number_integer()) return BacktraceOption(saturated_int(value));
  if (value.is_null()) return BacktraceOption(false);
  if (value.is_boolean()) return BacktraceOption(value.get<bool>());
  return BacktraceOption(true);
}

std::string_view to_string(FailureOutcome outcome) {
  switch (outcome) {
    case FailureOutcome::kRetry: return "retry";
    case FailureOutcome::kDead: return "dead";
    case FailureOutcome::kDropped: return "dropped";
  }
  return "unknown";
}

// ---- JobContext ------------------------------------------------------------------------------

namespace {
std::optional<double> number_at(const Json& job, const char* key) {
  auto it = job.find(key);
  if (it == job.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
const Json& empty_array() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}
}  // namespace

JobContext::JobContext(Json job, std::string queue, const JobType* type, Client& client,
                       Store& store, int max_retries)
    : job_(std::move(job)), queue_(std::move(queue)), type_(type), client_(client),
      store_(store), max_retries_(max_retries) {}

const Json& JobContext::args() const {
  auto it = job_.find("args");
  return (it != job_.end() && it->is_array()) ? *it : empty_array();
}

std::string JobContext::jid() const {
  auto it = job_.find("jid");
  return (it != job_.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::string JobContext::job_class() const {
  auto it = job_.find("class");
  return (it != job_.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::optional<int> JobContext::retry_count() const {
  auto it = job_.find("retry_count");
  return retry_count_value(it == job_.end() ? nullptr : &*it);
}

std::optional<double> JobContext::created_at() const { return number_at(job_, "created_at"); }
std::optional<double> JobContext::enqueued_at() const { return number_at(job_, "enqueued_at"); }
std::optional<double> JobContext::scheduled_at() const { return number_at(job_, "scheduled_at"); }

const JobOptions* JobContext::options() const { return type_ ? &type_->options : nullptr; }

KeyValue& JobContext::kv() { return store_.kv(); }

FailureOutcome JobContext::outcome_if_failed(const std::exception& error) const {
  RetryPolicyOptions o;
  o.max_retries = max_retries_;
  return RetryPolicy(o).outcome_if_failed(job_, options(), error);
}

bool JobContext::will_retry_on_failure() const {
  const std::runtime_error probe("kiq: probe");
  return outcome_if_failed(probe) == FailureOutcome::kRetry;
}

// ---- JobRegistry -----------------------------------------------------------------------------

JobRegistry& JobRegistry::add(std::string name, PerformFn perform, JobOptions options) {
  if (name.empty()) throw std::invalid_argument("kiq: job class name must not be empty");
  if (!perform) throw std::invalid_argument("kiq: job '" + name + "' needs a perform function");
  if (options.queue.empty()) options.queue = "default";
  JobType type{name, std::move(options), std::move(perform)};
  types_.insert_or_assign(std::move(name), std::move(type));
  return *this;
}

const JobType* JobRegistry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> JobRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(types_.size());
  for (const auto& [name, type] : types_) out.push_back(name);
  return out;
}

// ---- helpers ---------------------------------------------------------------------------------

double epoch_now() {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<double>(us) / 1e6;
}

std::string new_jid() {
  // One generator per thread: no shared mutable state, no lock on the hot path.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  // 12 random bytes, two hex digits each (push_bulk makes one jid per job: keep it cheap).
  char buf[24];
  const std::uint64_t words[2] = {gen(), gen()};
  for (int i = 0; i < 12; ++i) {
    const unsigned byte = static_cast<unsigned>(words[i / 8] >> ((i % 8) * 8)) & 0xff;
    buf[2 * i] = kHex[byte >> 4];
    buf[2 * i + 1] = kHex[byte & 0xf];
  }
  return std::string(buf, sizeof(buf));
}

}  // namespace kiq
