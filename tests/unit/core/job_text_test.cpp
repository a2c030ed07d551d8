// JobTextTemplate: push_bulk's spliced job text must be byte-identical to Json::dump of the
// whole hash (Ruby interop and the unit tests of the hash rely on the exact keys and numbers).
#include <gtest/gtest.h>

#include "core/job_text.hpp"
#include "kiq/client.hpp"
#include "kiq/store/memory.hpp"

namespace kiq {
namespace {

const char* const kJid = "0123456789abcdef01234567";

// What the template must produce: the whole hash dumped by nlohmann.
std::string expected(Json shared, const Json& args) {
  shared["args"] = args;
  shared["jid"] = kJid;
  return shared.dump();
}

TEST(JobTextTemplateTest, SidekiqHashIsByteIdenticalToDump) {
  Json shared = {{"class", "NoopJob"}, {"queue", "default"}, {"retry", true},
                 {"created_at", 1700000000.1234567}, {"enqueued_at", 1700000000.0}};
  JobTextTemplate text(shared);
  for (const Json& args : {Json::array(), Json::array({1, "x", 2.5, nullptr, true}),
                           Json::array({Json{{"k", Json::array({1.0, -0.0, 1e300})}}}),
                           Json::array({"quote\" backslash\\ tab\t nl\n \x01 é ☃"})}) {
    EXPECT_EQ(text.render(args, kJid), expected(shared, args)) << args.dump();
  }
}

TEST(JobTextTemplateTest, KeysAroundArgsAndJidKeepNlohmannOrder) {
  // Keys sorting before "args" ("Zed", "_x", "a", "ar"), between it and "jid", after "jid".
  Json shared = {{"Zed", 1},        {"_x", "y"},       {"a", Json::object()}, {"ar", false},
                 {"argsz", 2},      {"backtrace", 10}, {"dead", false},       {"ji", 1},
                 {"jida", "after"}, {"queue", "q\"1"}, {"retry", 3},          {"retry_queue", "slow"},
                 {"scheduled_at", 1700000123.5},        {"tags", {"a", "b"}}, {"\xc3\xa9", 1}};
  JobTextTemplate text(shared);
  Json args = Json::array({1});
  EXPECT_EQ(text.render(args, kJid), expected(shared, args));
}

TEST(JobTextTemplateTest, OnlyArgsAndJid) {
  JobTextTemplate text(Json::object());
  EXPECT_EQ(text.render(Json::array(), kJid), R"({"args":[],"jid":"0123456789abcdef01234567"})");
}

TEST(JobTextTemplateTest, ArgsAndJidInSharedAreIgnored) {
  Json shared = {{"args", Json::array({9})}, {"jid", "old"}, {"class", "X"}};
  JobTextTemplate text(shared);
  EXPECT_EQ(text.render(Json::array({1}), kJid),
            R"({"args":[1],"class":"X","jid":"0123456789abcdef01234567"})");
}

TEST(JobTextTemplateTest, BadInputIsAClearError) {
  EXPECT_THROW(JobTextTemplate{Json::array()}, std::invalid_argument);
  JobTextTemplate text(Json{{"class", "X"}});
  EXPECT_THROW(text.render(Json::array({std::string("\xff\xfe")}), kJid), std::invalid_argument);
  const Json bad_class = {{"class", std::string("\xff")}};
  EXPECT_THROW(JobTextTemplate{bad_class}, std::invalid_argument);
}

// push_bulk without middleware (spliced text) writes exactly what it writes with a middleware
// that changes nothing (Json objects dumped), apart from the jid.
class PassThrough : public ClientMiddleware {
 public:
  bool call(ClientCall&, const std::function<bool()>& next) override { return next(); }
};

std::vector<std::string> bulk_texts(bool with_middleware, std::optional<double> at) {
  auto store = std::make_shared<MemoryStore>();
  JobRegistry registry;
  JobOptions o;
  o.queue = "critical";
  o.retry = 5;
  o.backtrace = 10;
  o.dead = false;
  o.retry_queue = "slow";
  o.tags = {"a", "b"};
  registry.add("Opt", [](JobContext&, const Json&) {}, o);
  ClientChain chain;
  if (with_middleware) chain.add(std::make_shared<PassThrough>());
  Client client(store, chain, &registry);
  std::vector<Json> args = {Json::array(), Json::array({1, "é", 2.5}), Json::array({Json::object()})};
  std::vector<std::string> jids = client.push_bulk("Opt", args, at);
  std::vector<std::string> texts = at ? std::vector<std::string>() : store->queue_range("critical", 0, 10);
  if (at) {
    for (const auto& e : store->range(SortedSetName::kSchedule, 0, 10)) texts.push_back(e.payload);
  }
  EXPECT_EQ(texts.size(), 3u);
  for (std::string& t : texts) {
    Json j = Json::parse(t);
    std::string jid = j["jid"].get<std::string>();
    EXPECT_NE(std::find(jids.begin(), jids.end(), jid), jids.end()) << t;
    t.replace(t.find(jid), jid.size(), "JID");
    // Timestamps differ between runs: compare their presence and type, then blank them.
    for (const char* key : {"created_at", "enqueued_at", "scheduled_at"}) {
      if (!j.contains(key)) continue;
      EXPECT_TRUE(j[key].is_number_float()) << t;
      std::string dumped = j[key].dump();
      t.replace(t.find(dumped), dumped.size(), "T");
    }
  }
  std::sort(texts.begin(), texts.end());
  return texts;
}

TEST(JobTextTemplateTest, PushBulkTextEqualsTheMiddlewarePath) {
  EXPECT_EQ(bulk_texts(false, std::nullopt), bulk_texts(true, std::nullopt));
  EXPECT_EQ(bulk_texts(false, 3600.0), bulk_texts(true, 3600.0));
  EXPECT_NE(bulk_texts(false, std::nullopt).at(0).find("\"enqueued_at\":T"), std::string::npos);
}

}  // namespace
}  // namespace kiq
