// Retry policy: Sidekiq's retry math, retry-count fields, exhaustion, dead set, backtraces.
#include <gtest/gtest.h>
#include <zlib.h>

#include <numeric>

#include "kiq/retry.hpp"

namespace kiq_test {
struct PaymentDeclined : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace kiq_test

namespace kiq {
namespace {

constexpr double kNow = 1700000000.5;

Json base_job(Json retry = true) {
  return Json{{"class", "PaymentJob"}, {"args", {1}}, {"queue", "payments"}, {"retry", retry},
              {"jid", "0123456789abcdef01234567"}, {"created_at", kNow - 10},
              {"enqueued_at", kNow - 5}, {"traceparent", "00-x"}};
}

TEST(RetryMath, DefaultDelayIsCountToTheFourthPlus15) {
  EXPECT_EQ(default_retry_delay(0), 15);
  EXPECT_EQ(default_retry_delay(1), 16);
  EXPECT_EQ(default_retry_delay(24), 331791);
  double sum = 0;
  for (int c = 0; c <= 24; ++c) sum += default_retry_delay(c);
  EXPECT_EQ(sum, 1763395);
}

TEST(RetryMath, JitterIsRand10TimesCountPlusOne) {
  EXPECT_EQ(retry_jitter(0, 9), 9);
  EXPECT_EQ(retry_jitter(3, 9), 36);
  EXPECT_EQ(retry_jitter(3, 0), 0);
}

TEST(RetryPolicyTest, FirstFailureSetsSidekiqFields) {
  RetryPolicy policy;
  kiq_test::PaymentDeclined err("card declined");
  auto d = policy.on_failure(base_job(), "payments", nullptr, err, kNow);
  ASSERT_EQ(d.outcome, FailureOutcome::kRetry);
  const Json& j = d.job;
  EXPECT_EQ(j["retry_count"], 0);
  EXPECT_TRUE(j["retry_count"].is_number_integer());
  EXPECT_EQ(j["failed_at"], kNow);
  EXPECT_FALSE(j.contains("retried_at"));
  EXPECT_EQ(j["error_message"], "card declined");
  EXPECT_EQ(j["error_class"], "kiq_test::PaymentDeclined");
  EXPECT_FALSE(j.contains("error_backtrace"));
  EXPECT_EQ(j["queue"], "payments");
  EXPECT_EQ(j["traceparent"], "00-x");  // unknown keys kept
  EXPECT_EQ(j["jid"], "0123456789abcdef01234567");
  EXPECT_GE(d.retry_at, kNow + 15);
  EXPECT_LE(d.retry_at, kNow + 15 + 9);
  EXPECT_EQ(d.queue, "payments");
}

TEST(RetryPolicyTest, LaterFailuresIncrementAndSetRetriedAt) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job["retry_count"] = 1;
  job["failed_at"] = kNow - 100;
  auto d = policy.on_failure(job, "payments", nullptr, err, kNow);
  ASSERT_EQ(d.outcome, FailureOutcome::kRetry);
  EXPECT_EQ(d.job["retry_count"], 2);
  EXPECT_EQ(d.job["failed_at"], kNow - 100);
  EXPECT_EQ(d.job["retried_at"], kNow);
  EXPECT_EQ(d.job["error_class"], "std::runtime_error");
  EXPECT_GE(d.retry_at, kNow + 31);           // 2^4 + 15
  EXPECT_LE(d.retry_at, kNow + 31 + 9 * 3);   // + rand(10) * 3
}

TEST(RetryPolicyTest, TimeScaleShrinksDelays) {
  RetryPolicy policy({.time_scale = 0.001});
  std::runtime_error err("boom");
  auto d = policy.on_failure(base_job(), "payments", nullptr, err, kNow);
  EXPECT_GE(d.retry_at, kNow + 0.015);
  EXPECT_LE(d.retry_at, kNow + 0.025);
}

TEST(RetryPolicyTest, IntegerRetryIsTheMaximumThenDead) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  int exhausted_calls = 0;
  JobOptions opts;
  opts.retries_exhausted = [&](const Json& job, const std::exception& e) {
    ++exhausted_calls;
    EXPECT_EQ(job["retry_count"], 2);
    EXPECT_STREQ(e.what(), "boom");
  };
  Json job = base_job(2);
  auto d0 = policy.on_failure(job, "payments", &opts, err, kNow);  // retry_count 0
  ASSERT_EQ(d0.outcome, FailureOutcome::kRetry);
  auto d1 = policy.on_failure(d0.job, "payments", &opts, err, kNow);  // 1
  ASSERT_EQ(d1.outcome, FailureOutcome::kRetry);
  EXPECT_EQ(policy.outcome_if_failed(d1.job, &opts, err), FailureOutcome::kDead);
  auto d2 = policy.on_failure(d1.job, "payments", &opts, err, kNow);  // 2 >= 2
  EXPECT_EQ(d2.outcome, FailureOutcome::kDead);
  EXPECT_EQ(d2.job["retry_count"], 2);
  EXPECT_EQ(exhausted_calls, 1);
}

TEST(RetryPolicyTest, RetryZeroGoesStraightToDead) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  EXPECT_EQ(policy.outcome_if_failed(base_job(0), nullptr, err), FailureOutcome::kDead);
  auto d = policy.on_failure(base_job(0), "payments", nullptr, err, kNow);
  EXPECT_EQ(d.outcome, FailureOutcome::kDead);
  EXPECT_EQ(d.job["retry_count"], 0);
  EXPECT_EQ(d.job["error_message"], "boom");
}

TEST(RetryPolicyTest, DefaultMaximumIs25) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job["retry_count"] = 23;
  EXPECT_EQ(policy.on_failure(job, "q", nullptr, err, kNow).outcome, FailureOutcome::kRetry);  // 24
  job["retry_count"] = 24;
  EXPECT_EQ(policy.on_failure(job, "q", nullptr, err, kNow).outcome, FailureOutcome::kDead);  // 25
  RetryPolicy small({.max_retries = 3});
  job["retry_count"] = 2;
  EXPECT_EQ(small.on_failure(job, "q", nullptr, err, kNow).outcome, FailureOutcome::kDead);
}

// A hash is untrusted: counts past int's range saturate (no overflow, no truncation to a small
// or negative count), so a huge retry_count is exhausted and a huge retry allows retries.
TEST(RetryPolicyTest, OutOfRangeIntegersSaturate) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job(2147483647);
  job["retry_count"] = 2147483647;  // the fuzzer's input: next count would overflow
  auto d = policy.on_failure(job, "q", nullptr, err, kNow);
  EXPECT_EQ(d.outcome, FailureOutcome::kDead);
  EXPECT_EQ(d.job["retry_count"], 2147483647);

  job["retry_count"] = 4294967296LL;  // truncates to 0 with get<int>
  EXPECT_EQ(policy.outcome_if_failed(job, nullptr, err), FailureOutcome::kDead);
  job["retry_count"] = std::uint64_t{18446744073709551615ULL};
  EXPECT_EQ(policy.outcome_if_failed(job, nullptr, err), FailureOutcome::kDead);

  Json many = base_job(4294967296LL);  // truncates to retry 0 (dead at once) with get<int>
  many["retry_count"] = 30;
  EXPECT_EQ(RetryOption::from_json(many["retry"]).count(), 2147483647);
  EXPECT_EQ(policy.on_failure(many, "q", nullptr, err, kNow).outcome, FailureOutcome::kRetry);
  EXPECT_EQ(RetryOption::from_json(Json(-4294967296LL)).count(), -2147483647 - 1);
  EXPECT_EQ(BacktraceOption::from_json(Json(4294967297LL)).lines(), 2147483647);
}

TEST(RetryPolicyTest, RetryFalseIsDroppedWithoutCallback) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  bool called = false;
  JobOptions opts;
  opts.retries_exhausted = [&](const Json&, const std::exception&) { called = true; };
  auto d = policy.on_failure(base_job(false), "q", &opts, err, kNow);
  EXPECT_EQ(d.outcome, FailureOutcome::kDropped);
  EXPECT_FALSE(called);
  EXPECT_EQ(policy.outcome_if_failed(base_job(false), &opts, err), FailureOutcome::kDropped);
}

TEST(RetryPolicyTest, DeadFalseDropsExhaustedJobsAfterTheCallback) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  bool called = false;
  JobOptions opts;
  opts.retries_exhausted = [&](const Json&, const std::exception&) { called = true; };
  Json job = base_job(0);
  job["dead"] = false;
  auto d = policy.on_failure(job, "q", &opts, err, kNow);
  EXPECT_EQ(d.outcome, FailureOutcome::kDropped);
  EXPECT_TRUE(called);
}

TEST(RetryPolicyTest, RetryInCustomDelayKillAndDiscard) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  JobOptions opts;
  int exhausted = 0;
  opts.retries_exhausted = [&](const Json&, const std::exception&) { ++exhausted; };
  std::optional<RetryInResult> answer = std::chrono::seconds(100);
  opts.retry_in = [&](int count, const std::exception&, const Json&) {
    EXPECT_EQ(count, 0);
    return answer;
  };
  auto d = policy.on_failure(base_job(), "q", &opts, err, kNow);
  EXPECT_EQ(d.outcome, FailureOutcome::kRetry);
  EXPECT_GE(d.retry_at, kNow + 100);
  EXPECT_LE(d.retry_at, kNow + 109);

  answer = RetryIn::kKill;
  EXPECT_EQ(policy.outcome_if_failed(base_job(), &opts, err), FailureOutcome::kDead);
  EXPECT_EQ(policy.on_failure(base_job(), "q", &opts, err, kNow).outcome, FailureOutcome::kDead);
  EXPECT_EQ(exhausted, 1);

  answer = RetryIn::kDiscard;
  EXPECT_EQ(policy.outcome_if_failed(base_job(), &opts, err), FailureOutcome::kDropped);
  EXPECT_EQ(policy.on_failure(base_job(), "q", &opts, err, kNow).outcome, FailureOutcome::kDropped);
  EXPECT_EQ(exhausted, 1);

  answer = std::nullopt;  // default formula
  d = policy.on_failure(base_job(), "q", &opts, err, kNow);
  EXPECT_LE(d.retry_at, kNow + 24);
}

TEST(RetryPolicyTest, RetryQueueRedirectsTheRetry) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job["retry_queue"] = "slow";
  auto d = policy.on_failure(job, "payments", nullptr, err, kNow);
  EXPECT_EQ(d.queue, "slow");
  EXPECT_EQ(d.job["queue"], "slow");
}

TEST(RetryPolicyTest, UnknownClassUsesOnlyThePayload) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job.erase("retry");
  EXPECT_EQ(policy.outcome_if_failed(job, nullptr, err), FailureOutcome::kDropped);
  JobOptions opts;  // a known class defaults to retry true
  EXPECT_EQ(policy.outcome_if_failed(job, &opts, err), FailureOutcome::kRetry);
}

TEST(RetryPolicyTest, SchedulingMarkerIsDroppedOnFailure) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job["scheduled_at"] = kNow - 60;
  EXPECT_FALSE(policy.on_failure(job, "q", nullptr, err, kNow).job.contains("scheduled_at"));
}

TEST(ErrorText, MessagesAreTruncatedAndScrubbed) {
  RetryPolicy policy;
  std::runtime_error long_error(std::string(20000, 'x'));
  auto d = policy.on_failure(base_job(), "q", nullptr, long_error, kNow);
  EXPECT_EQ(d.job["error_message"].get<std::string>().size(), 10000u);
  std::runtime_error bad_utf8(std::string("ok \xff\xfe end"));
  d = policy.on_failure(base_job(), "q", nullptr, bad_utf8, kNow);
  EXPECT_EQ(d.job["error_message"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_NO_THROW((void)d.job.dump());
  EXPECT_EQ(scrub_utf8("h\xC3\xA9llo", 2), "h\xC3\xA9");  // counts characters, not bytes
  EXPECT_EQ(scrub_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

// Independent decoder for the round trip: base64 then zlib inflate.
std::string b64decode(const std::string& in) {
  const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string inflate_all(const std::string& in) {
  std::string out(1 << 20, '\0');
  uLongf size = out.size();
  int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(in.data()), in.size());
  EXPECT_EQ(rc, Z_OK);
  out.resize(size);
  return out;
}

TEST(Backtrace, EncodingIsBase64OfZlibOfJsonArray) {
  std::vector<std::string> lines = {"app/jobs/x.rb:1:in `perform'", "second \"quoted\" line"};
  std::string encoded = encode_backtrace(lines);
  EXPECT_EQ(encoded.find('\n'), std::string::npos);  // strict base64
  std::string zlib = b64decode(encoded);
  ASSERT_GE(zlib.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(zlib[0]), 0x78);  // zlib header, not gzip / raw
  EXPECT_EQ(Json::parse(inflate_all(zlib)), Json(lines));
  EXPECT_EQ(decode_backtrace(encoded), lines);
  // Sidekiq 6.4 writes base64 with newlines every 60 chars: accepted.
  std::string wrapped;
  for (std::size_t i = 0; i < encoded.size(); i += 60) wrapped += encoded.substr(i, 60) + "\n";
  EXPECT_EQ(decode_backtrace(wrapped), lines);
  EXPECT_THROW(decode_backtrace("not*base64"), std::invalid_argument);
  EXPECT_THROW(decode_backtrace("aGVsbG8="), std::invalid_argument);  // "hello" is not zlib
}

TEST(Backtrace, BacktraceOptionStoresLines) {
  RetryPolicy policy;
  std::runtime_error err("boom");
  Json job = base_job();
  job["backtrace"] = true;
  auto d = policy.on_failure(job, "q", nullptr, err, kNow);
  ASSERT_TRUE(d.job.contains("error_backtrace"));
  auto lines = decode_backtrace(d.job["error_backtrace"].get<std::string>());
  EXPECT_FALSE(lines.empty());
  job["backtrace"] = 2;
  d = policy.on_failure(job, "q", nullptr, err, kNow);
  EXPECT_LE(decode_backtrace(d.job["error_backtrace"].get<std::string>()).size(), 2u);
}

}  // namespace
}  // namespace kiq
