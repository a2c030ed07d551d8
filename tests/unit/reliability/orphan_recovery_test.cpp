// Orphan recovery on the embedded store: rule 1 (expired heartbeats, any host: the store's
// recover_orphans) and rule 2 (dead pids of this boot + pid namespace at once: orphan_rules.hpp).
#include "server/orphan_rules.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "kiq/store/memory.hpp"

namespace kiq::server {
namespace {

using namespace std::chrono_literals;

// A pid that certainly existed and is now gone (reaped child).
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void beat(Store& store, const std::string& identity, pid_t pid, const std::string& scope) {
  ProcessBeat b;
  b.identity = identity;
  nlohmann::json info = {{"hostname", "h"}, {"pid", pid}, {"identity", identity}};
  if (!scope.empty()) info[kScopeInfoKey] = scope;
  b.info_json = info.dump();
  b.beat = 1e9;
  b.ttl = 60s;
  store.heartbeat(b);
}

// Puts `n` jobs into `identity`'s in-progress list.
void own_jobs(Store& store, const std::string& identity, int n) {
  std::vector<std::string> payloads;
  for (int i = 0; i < n; ++i) payloads.push_back(R"({"class":"NoopJob","args":[],"jid":"j)" + std::to_string(i) + R"("})");
  store.push("default", payloads);
  std::vector<std::string> queues = {"default"};
  ASSERT_EQ(store.fetch(identity, queues, static_cast<std::size_t>(n), 10ms).size(), static_cast<std::size_t>(n));
}

class OrphanRecoveryTest : public ::testing::Test {
 protected:
  MemoryStore store;
  spdlog::logger logger{"null", std::make_shared<spdlog::sinks::null_sink_mt>()};
  // What the server does every orphan_check_interval: rule 2, then rule 1.
  struct Counts {
    std::size_t local_dead = 0, expired = 0;
    std::size_t total() const { return local_dead + expired; }
  };
  Counts run_once() {
    Counts c;
    c.local_dead = recover_dead_local_processes(store, "self:1:aaaaaaaaaaaa", logger);
    c.expired = store.recover_orphans();
    return c;
  }
};

TEST_F(OrphanRecoveryTest, ScopeNamesBootAndPidNamespace) {
  const std::string& scope = local_process_scope();
  ASSERT_FALSE(scope.empty()) << "/proc should tell boot id and pid namespace on Linux";
  EXPECT_NE(scope.find("/pid:["), std::string::npos) << scope;
}

TEST_F(OrphanRecoveryTest, PidAliveTellsDeadFromLive) {
  EXPECT_TRUE(pid_alive(::getpid()));
  EXPECT_TRUE(pid_alive(1));  // exists even if not ours (EPERM counts as alive)
  EXPECT_FALSE(pid_alive(dead_pid()));
  EXPECT_TRUE(pid_alive(0)) << "not a real pid: never conclude dead";
}

TEST_F(OrphanRecoveryTest, LocationOfReadsPidAndScopeAndRejectsJunk) {
  ProcessRecord r;
  r.info_json = R"({"pid": 42, "kiq_scope": "b/pid:[1]"})";
  auto where = location_of(r);
  ASSERT_TRUE(where);
  EXPECT_EQ(where->pid, 42);
  EXPECT_EQ(where->scope, "b/pid:[1]");
  for (const char* junk : {"", "not json", "[]", R"({"pid":"42"})", R"({"nopid":1})"}) {
    r.info_json = junk;
    EXPECT_FALSE(location_of(r)) << junk;
  }
}

TEST_F(OrphanRecoveryTest, ExpiredProcessJobsComeBackFromAnyHost) {
  own_jobs(store, "elsewhere:77:bbbbbbbbbbbb", 3);  // never beat: its hash does not exist
  EXPECT_EQ(store.queue_size("default"), 0);
  Counts counts = run_once();
  EXPECT_EQ(counts.expired, 3u);
  EXPECT_EQ(counts.local_dead, 0u);
  EXPECT_EQ(store.queue_size("default"), 3);
  EXPECT_TRUE(store.in_progress("elsewhere:77:bbbbbbbbbbbb").empty());
}

TEST_F(OrphanRecoveryTest, DeadLocalProcessIsRecoveredAtOnceDespiteLiveHeartbeat) {
  const std::string ghost = "here:1:cccccccccccc";
  beat(store, ghost, dead_pid(), local_process_scope());
  own_jobs(store, ghost, 2);
  Counts counts = run_once();
  EXPECT_EQ(counts.local_dead, 2u);
  EXPECT_EQ(store.queue_size("default"), 2);
  EXPECT_TRUE(store.in_progress(ghost).empty());
  for (const ProcessRecord& p : store.processes()) EXPECT_NE(p.identity, ghost) << "dead process removed";
}

TEST_F(OrphanRecoveryTest, LiveLocalProcessKeepsItsJobs) {
  const std::string live = "here:2:dddddddddddd";
  beat(store, live, ::getppid(), local_process_scope());
  own_jobs(store, live, 2);
  EXPECT_EQ(run_once().total(), 0u);
  EXPECT_EQ(store.in_progress(live).size(), 2u);
}

TEST_F(OrphanRecoveryTest, OtherScopeOrNoScopeWaitsForExpiry) {
  // A dead pid means nothing in another pid namespace / boot, or for processes (Ruby) that do
  // not publish a scope: only the heartbeat's expiry may free their jobs.
  beat(store, "there:3:eeeeeeeeeeee", dead_pid(), "other-boot/pid:[1]");
  own_jobs(store, "there:3:eeeeeeeeeeee", 1);
  beat(store, "ruby:4:ffffffffffff", dead_pid(), "");
  own_jobs(store, "ruby:4:ffffffffffff", 1);
  EXPECT_EQ(run_once().total(), 0u);
  EXPECT_EQ(store.in_progress("there:3:eeeeeeeeeeee").size(), 1u);
  EXPECT_EQ(store.in_progress("ruby:4:ffffffffffff").size(), 1u);
}

TEST_F(OrphanRecoveryTest, NeverRecoversItself) {
  beat(store, "self:1:aaaaaaaaaaaa", dead_pid(), local_process_scope());
  own_jobs(store, "self:1:aaaaaaaaaaaa", 1);
  EXPECT_EQ(run_once().total(), 0u);
}

}  // namespace
}  // namespace kiq::server
