// Bad input never crashes the server and never loses the entry (issue 5). Every nasty payload of
// the fuzz corpus fuzz/corpus/queue_entry/ (plus 5 MB ones made here) is pushed raw into a queue
// of a running Server -- on the embedded store and on a private redis-server -- and must end in
// the dead set with error_class "kiq::InvalidJob" and an error_message saying what was wrong,
// with an error log line each, while the server keeps running jobs.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "kiq/server.hpp"
#include "kiq/store/memory.hpp"
#include "kiq/store/redis.hpp"
#include "server/payload.hpp"
#include "support/redis_server.hpp"

namespace kiq {
namespace {

using namespace std::chrono_literals;

// What the error_message must say for each corpus file (a new seed needs a line here).
const std::map<std::string, std::string>& expectations() {
  static const std::map<std::string, std::string> kExpected = {
      {"empty", "not valid JSON"},
      {"not_json", "not valid JSON"},
      {"truncated_object", "not valid JSON"},
      {"invalid_utf8_in_string", "not valid JSON"},
      {"invalid_utf8_bytes", "not valid JSON"},
      {"overlong_utf8", "not valid JSON"},
      {"lone_surrogate_escape", "not valid JSON"},
      {"nul_then_junk", "not valid JSON"},
      {"trailing_garbage", "not valid JSON"},
      {"whitespace_only", "not valid JSON"},
      {"deep_nesting", "deeper than"},
      {"deep_object", "deeper than"},
      {"json_null", "not an object"},
      {"json_array", "not an object"},
      {"json_string", "not an object"},
      {"json_number", "not an object"},
      {"json_true", "not an object"},
      {"missing_class", "no \"class\""},
      {"empty_object", "no \"class\""},
      {"class_number", "\"class\" must be"},
      {"class_empty", "\"class\" must be"},
      {"class_null", "\"class\" must be"},
      {"duplicate_key_last_wins", "\"class\" must be"},
      {"missing_args", "no \"args\""},
      {"args_object", "\"args\" must be an array"},
      {"args_string", "\"args\" must be an array"},
      {"sidekiq_args_as_hash", "\"args\" must be an array"},
      {"jid_number", "\"jid\" must be a string"},
      // made by corpus() below
      {"huge_not_json_5mb", "not valid JSON"},
      {"huge_missing_class_5mb", "no \"class\""},
  };
  return kExpected;
}

struct Entry {
  std::string name;
  std::string payload;
};

std::vector<Entry> corpus() {
  const char* src = std::getenv("KIQ_SOURCE_DIR");
  std::filesystem::path dir = std::filesystem::path(src ? src : ".") / "fuzz" / "corpus" / "queue_entry";
  std::vector<Entry> out;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    out.push_back({file.path().filename().string(), bytes.str()});
  }
  const std::string five_mb(5 * 1024 * 1024, 'x');
  out.push_back({"huge_not_json_5mb", five_mb});
  out.push_back({"huge_missing_class_5mb", R"({"args":[")" + five_mb + R"("],"jid":"h"})"});
  return out;
}

class BadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      if (!testing::redis_server_available()) GTEST_SKIP() << "redis-server not installed";
      redis_ = std::make_unique<testing::RedisServer>();
      store_ = make_redis_store(redis_->url());
    } else {
      store_ = std::make_shared<MemoryStore>();
    }
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::shared_ptr<Store> store_;
};

TEST_P(BadInputTest, EveryNastyEntryEndsInTheDeadSetSayingWhatWasWrong) {
  std::vector<Entry> entries = corpus();
  for (const Entry& e : entries)
    ASSERT_TRUE(expectations().count(e.name)) << "corpus file without an expectation: " << e.name;

  std::atomic<int> good_runs{0};
  JobRegistry jobs;
  jobs.add("NoopJob", [&](JobContext&, const Json&) { ++good_runs; });
  std::ostringstream log;
  ServerOptions options;
  options.concurrency = 3;
  options.log_jobs = false;
  options.logger = std::make_shared<spdlog::logger>("bad-input", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  Server server(std::move(options), std::move(jobs), store_);

  for (const Entry& e : entries) {
    std::vector<std::string> one = {e.payload};
    store_->push("default", one);
  }
  // A valid 5 MB job between them: big is not bad.
  std::vector<std::string> big = {R"({"class":"NoopJob","args":[")" + std::string(5 * 1024 * 1024, 'y') +
                                  R"("],"jid":"0123456789abcdef01234567","retry":true})"};
  store_->push("default", big);

  server.start();
  ASSERT_TRUE(server.wait_until_idle(120s)) << "server did not get through the bad entries";
  EXPECT_TRUE(server.running());
  EXPECT_EQ(good_runs.load(), 1) << "the valid 5 MB job must run";

  // Every entry in the dead set, each with the specific complaint.
  std::vector<ScoredPayload> dead = store_->range(SortedSetName::kDead, 0, 1000);
  ASSERT_EQ(dead.size(), entries.size());
  std::multiset<std::string> messages;
  for (const ScoredPayload& d : dead) {
    Json job = Json::parse(d.payload, nullptr, false);
    ASSERT_TRUE(job.is_object()) << d.payload.substr(0, 200);
    EXPECT_EQ(job.value("error_class", ""), "kiq::InvalidJob");
    EXPECT_TRUE(job["jid"].is_string());
    messages.insert(job.value("error_message", ""));
  }
  for (const Entry& e : entries) {
    const std::string& want = expectations().at(e.name);
    auto hit = std::find_if(messages.begin(), messages.end(),
                            [&](const std::string& m) { return m.find(want) != std::string::npos; });
    EXPECT_NE(hit, messages.end()) << e.name << ": no dead entry says '" << want << "'";
    if (hit != messages.end()) messages.erase(hit);
  }
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 0);
  EXPECT_TRUE(store_->in_progress(server.identity()).empty());

  // One error line per entry.
  std::size_t error_lines = 0;
  std::istringstream lines(log.str());
  for (std::string line; std::getline(lines, line);)
    if (line.find("ERROR:") != std::string::npos && line.find("dead set") != std::string::npos) ++error_lines;
  EXPECT_EQ(error_lines, entries.size()) << log.str().substr(0, 4000);

  // Still serving.
  std::vector<std::string> after = {R"({"class":"NoopJob","args":[],"jid":"afterafterafterafterafte"})"};
  store_->push("default", after);
  EXPECT_TRUE(server.wait_until_idle(30s));
  EXPECT_EQ(good_runs.load(), 2);
  server.stop();
}

TEST_P(BadInputTest, BadScheduledAndRetryEntriesGoToTheDeadSetToo) {
  ServerOptions options;
  options.concurrency = 1;
  options.log_jobs = false;
  options.logger = make_null_logger();
  options.poll_interval_average = 100ms;
  options.initial_poll_delay = 0ms;
  Server server(std::move(options), JobRegistry{}, store_);
  double past = epoch_now() - 10;
  store_->add(SortedSetName::kSchedule, past, "not json at all");
  store_->add(SortedSetName::kRetry, past, std::string(5000, '[') + std::string(5000, ']'));
  store_->add(SortedSetName::kSchedule, past, R"({"class":"X","args":"nope","jid":"s"})");
  server.start();
  ASSERT_TRUE(server.drain(60s));
  EXPECT_EQ(store_->size(SortedSetName::kSchedule), 0);
  EXPECT_EQ(store_->size(SortedSetName::kRetry), 0);
  std::vector<ScoredPayload> dead = store_->range(SortedSetName::kDead, 0, 10);
  ASSERT_EQ(dead.size(), 3u);
  std::string all;
  for (const ScoredPayload& d : dead) {
    Json job = Json::parse(d.payload, nullptr, false);
    ASSERT_TRUE(job.is_object());
    EXPECT_EQ(job.value("error_class", ""), "kiq::InvalidJob");
    all += job.value("error_message", "") + "\n";
  }
  EXPECT_NE(all.find("not valid JSON"), std::string::npos) << all;
  EXPECT_NE(all.find("deeper than"), std::string::npos) << all;
  EXPECT_NE(all.find("args"), std::string::npos) << all;
  EXPECT_TRUE(server.running());
  server.stop();
}

INSTANTIATE_TEST_SUITE_P(Stores, BadInputTest, ::testing::Values("memory", "redis"));

TEST(Payload, DepthIgnoresBracketsInStringsAndStopsAtTheLimit) {
  EXPECT_EQ(server::json_depth(R"({"a":[1,{"b":[]}]})"), 4u);
  EXPECT_EQ(server::json_depth(R"({"a":"[[[[[{{{{ \" [[[["})"), 1u);
  EXPECT_EQ(server::json_depth(std::string(100000, '['), 10), 11u);
  EXPECT_EQ(server::json_depth("42"), 0u);
}

TEST(Payload, ParseSaysWhatIsWrong) {
  EXPECT_TRUE(server::parse_payload(R"({"class":"X","args":[]})").ok());
  auto bad = server::parse_payload("{\"class\":");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("not valid JSON (9 bytes)"), std::string::npos) << bad.error;
  auto deep = server::parse_payload(std::string(600, '[') + std::string(600, ']'));
  EXPECT_NE(deep.error.find("deeper than 512 levels"), std::string::npos) << deep.error;
  EXPECT_TRUE(server::parse_payload(std::string(500, '[') + std::string(500, ']')).ok());
  using namespace std::string_literals;
  auto nul = server::parse_payload("{\"class\":\"X\",\"args\":[]}\0junk"s);
  EXPECT_NE(nul.error.find("NUL byte at byte 23"), std::string::npos) << nul.error;
}

// parse_payload has a fast path (simdjson) for valid input; it must build exactly the value
// nlohmann builds, types included (int64 / uint64 / double), and leave every rejection to the
// nlohmann path (same errors as before).
TEST(Payload, FastPathBuildsExactlyWhatNlohmannBuilds) {
  const char* docs[] = {
      R"({"class":"X","args":[1,-2,3.5,"s",true,false,null,[],{}],"jid":"abc"})",
      R"({"big":18446744073709551615,"neg":-9223372036854775808,"max":9223372036854775807})",
      R"({"d":[1e300,-0.0,0.1,1.7000000000000001e9,5e-324,1E2,12345678901234567890.5]})",
      R"({"u":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n","raw":"ü€😀"})",
      R"({"dup":1,"dup":2,"nested":{"dup":[1],"dup":[2,3]}})",
      R"(  [ "not a hash" , 7 ]  )",
      R"("just a string")",
      R"(-0)",
      R"({"at":1700000000.1234567,"retry":25,"created_at":1.7e9})",
  };
  for (const char* doc : docs) {
    auto parsed = server::parse_payload(doc);
    ASSERT_TRUE(parsed.ok()) << doc << ": " << parsed.error;
    Json expected = Json::parse(doc);
    EXPECT_EQ(parsed.job, expected) << doc;
    EXPECT_EQ(parsed.job.dump(), expected.dump()) << doc;  // types too (1 vs 1.0, signedness)
  }
  // Rejected by the fast path, decided (and worded) by nlohmann: too big for 64 bits is a double.
  auto huge = server::parse_payload(R"({"n":123456789012345678901234567890})");
  ASSERT_TRUE(huge.ok()) << huge.error;
  EXPECT_EQ(huge.job, Json::parse(R"({"n":123456789012345678901234567890})"));
  auto bad_utf8 = server::parse_payload("{\"s\":\"\xff\"}");
  EXPECT_FALSE(bad_utf8.ok());
  EXPECT_NE(bad_utf8.error.find("not valid JSON"), std::string::npos) << bad_utf8.error;
  auto trailing = server::parse_payload(R"({"class":"X"} x)");
  EXPECT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error.find("not valid JSON"), std::string::npos) << trailing.error;
}

}  // namespace
}  // namespace kiq
