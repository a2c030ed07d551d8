// Fuzzes the job-hash readers: JSON parsing, the client's normalize_item (what push accepts) and
// everything the server reads from a fetched hash (JobContext accessors, the retry policy that
// writes error fields and retry counts). Any input must be accepted or rejected with a clear
// exception, never crash, and whatever is produced must serialize.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "kiq/client.hpp"
#include "kiq/job.hpp"
#include "kiq/retry.hpp"
#include "kiq/store/memory.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

std::string dump(const kiq::Json& j) { return j.dump(-1, ' ', false, kiq::Json::error_handler_t::replace); }

void read_like_a_server(const kiq::Json& job) {
  static auto store = std::make_shared<kiq::MemoryStore>();
  static kiq::Client client(store);
  kiq::JobContext ctx(job, "default", nullptr, client, *store);
  (void)ctx.args();
  (void)ctx.jid();
  (void)ctx.job_class();
  (void)ctx.retry_count();
  (void)ctx.created_at();
  (void)ctx.enqueued_at();
  (void)ctx.scheduled_at();
  std::runtime_error error("fuzz failure");
  (void)ctx.outcome_if_failed(error);
  kiq::RetryPolicy policy;
  kiq::RetryDecision d = policy.on_failure(job, "default", nullptr, error, 1.7e9);
  check(d.job.is_object());
  if (d.outcome != kiq::FailureOutcome::kDropped)  // what goes to retry/dead says what failed
    check(d.job.value("error_class", kiq::Json()).is_string() && d.job.value("error_message", kiq::Json()).is_string());
  if (d.outcome == kiq::FailureOutcome::kRetry) check(!std::isnan(d.retry_at) && d.retry_at >= 1.7e9);
  (void)dump(d.job);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  kiq::Json job = kiq::Json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (job.is_discarded()) return 0;

  try {
    kiq::Json normalized = kiq::normalize_item(job, nullptr, 1.7e9);
    check(normalized.is_object());
    check(normalized["jid"].is_string() && normalized["class"].is_string() && normalized["args"].is_array());
    (void)dump(normalized);
  } catch (const std::invalid_argument&) {
    // rejected with a message: fine
  }

  if (job.is_object()) read_like_a_server(job);
  return 0;
}
