// The server's own reliability promises on the embedded store (issue 5):
//  * graceful stop loses nothing (unfinished jobs are back in their queue, a new server runs them);
//  * a running server brings back the jobs of a process whose heartbeat expired (periodically);
//  * a (re)started server reclaims the jobs of a dead process of this host at once, including
//    due entries its scheduled poller had claimed (pop_due) but not pushed when it died.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kiq/client.hpp"
#include "kiq/server.hpp"
#include "kiq/store/memory.hpp"
#include "server/orphan_rules.hpp"

namespace kiq {
namespace {

using namespace std::chrono_literals;

// Jids of finished runs; shared with job code, which may outlive a test's stack frame
// (workers abandoned at a shutdown deadline keep running detached).
struct Ledger {
  std::mutex mu;
  std::multiset<std::string> done;
  void add(const std::string& jid) {
    std::lock_guard lock(mu);
    done.insert(jid);
  }
  std::set<std::string> distinct() {
    std::lock_guard lock(mu);
    return {done.begin(), done.end()};
  }
  std::size_t runs() {
    std::lock_guard lock(mu);
    return done.size();
  }
};

JobRegistry registry(const std::shared_ptr<Ledger>& ledger, std::chrono::milliseconds work) {
  JobRegistry jobs;
  jobs.add("Work", [ledger, work](JobContext& ctx, const Json&) {
    std::this_thread::sleep_for(work);
    ledger->add(ctx.jid());
  });
  return jobs;
}

ServerOptions fast_options() {
  ServerOptions o;
  o.concurrency = 4;
  o.log_jobs = false;
  o.logger = make_null_logger();
  o.heartbeat_interval = 100ms;
  o.orphan_check_interval = 200ms;
  return o;
}

template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// Makes `identity` look like a process with a live heartbeat that owns `n` fetched jobs.
std::vector<std::string> fake_owner(Store& store, const std::string& identity, Json info,
                                    std::chrono::seconds ttl, int n) {
  ProcessBeat beat;
  beat.identity = identity;
  beat.info_json = info.dump();
  beat.beat = epoch_now();
  beat.ttl = ttl;
  store.heartbeat(beat);
  Client client(std::shared_ptr<Store>(&store, [](Store*) {}));
  std::vector<std::string> jids;
  for (int i = 0; i < n; ++i) jids.push_back(*client.perform_async("Work"));
  std::vector<std::string> queues = {"default"};
  EXPECT_EQ(store.fetch(identity, queues, static_cast<std::size_t>(n), 10ms).size(), static_cast<std::size_t>(n));
  EXPECT_EQ(store.queue_size("default"), 0);
  return jids;
}

TEST(EmbeddedStore, GracefulStopLosesNothing) {
  auto store = std::make_shared<MemoryStore>();
  auto ledger = std::make_shared<Ledger>();
  Client client(store);
  std::set<std::string> jids;
  for (int i = 0; i < 200; ++i) jids.insert(*client.perform_async("Work"));

  ServerOptions first_options = fast_options();
  first_options.timeout = 20ms;  // shorter than a job: some are cut off and requeued
  Server first(std::move(first_options), registry(ledger, 30ms), store);
  first.start();
  ASSERT_TRUE(eventually([&] { return ledger->runs() >= 20; }));
  first.stop();

  // Nothing owned any more; every job either ran or is back in the queue.
  EXPECT_TRUE(store->in_progress(first.identity()).empty());
  std::set<std::string> accounted = ledger->distinct();
  for (const std::string& payload : store->queue_range("default", 0, 1000))
    accounted.insert(Json::parse(payload)["jid"].get<std::string>());
  EXPECT_EQ(accounted, jids);
  EXPECT_LT(ledger->distinct().size(), jids.size()) << "the stop should have interrupted the run";

  Server second(fast_options(), registry(ledger, 1ms), store);
  second.start();
  ASSERT_TRUE(second.wait_until_idle(60s));
  second.stop();
  EXPECT_EQ(ledger->distinct(), jids);
  EXPECT_EQ(store->size(SortedSetName::kDead) + store->size(SortedSetName::kRetry), 0);
}

TEST(OrphanRecovery, RunningServerBringsBackJobsOfAnExpiredProcess) {
  auto store = std::make_shared<MemoryStore>();
  auto ledger = std::make_shared<Ledger>();
  // Another host's process (no scope: only its heartbeat's expiry may free its jobs).
  Json info = {{"hostname", "elsewhere"}, {"pid", 4242}};
  auto jids = fake_owner(*store, "elsewhere:4242:abcdefabcdef", info, 1s, 5);

  Server server(fast_options(), registry(ledger, 1ms), store);
  server.start();
  EXPECT_TRUE(eventually([&] { return ledger->distinct().size() == jids.size(); }))
      << "orphans of the expired process were not recovered";
  EXPECT_GE(server.stats().recovered, 5);
  EXPECT_TRUE(store->in_progress("elsewhere:4242:abcdefabcdef").empty());
  server.stop();
}

TEST(OrphanRecovery, StartingServerReclaimsADeadLocalProcessAtOnce) {
  auto store = std::make_shared<MemoryStore>();
  auto ledger = std::make_shared<Ledger>();
  // Same boot + pid namespace, pid gone, heartbeat still valid for a minute (a kill -9).
  Json info = {{"hostname", "here"}, {"pid", dead_pid()}, {server::kScopeInfoKey, server::local_process_scope()}};
  auto jids = fake_owner(*store, "here:1:abcdefabcdef", info, 60s, 3);

  ServerOptions options = fast_options();
  options.orphan_check_interval = 1h;  // only the start-up check can have done it
  Server server(std::move(options), registry(ledger, 1ms), store);
  server.start();
  EXPECT_TRUE(eventually([&] { return ledger->distinct().size() == jids.size(); }))
      << "a dead local process's jobs must not wait for its heartbeat to expire";
  EXPECT_GE(server.stats().recovered, 3);
  for (const ProcessRecord& p : store->processes()) EXPECT_NE(p.identity, "here:1:abcdefabcdef");
  server.stop();
}

TEST(OrphanRecovery, DueEntriesClaimedByAProcessKilledMidPollRunAfterAll) {
  auto store = std::make_shared<MemoryStore>();
  auto ledger = std::make_shared<Ledger>();
  const std::string ghost = "here:2:abcdefabcdef";
  ProcessBeat beat;
  beat.identity = ghost;
  beat.info_json = Json{{"hostname", "here"}, {"pid", dead_pid()},
                        {server::kScopeInfoKey, server::local_process_scope()}}.dump();
  beat.beat = epoch_now();
  beat.ttl = 60s;
  store->heartbeat(beat);
  std::set<std::string> jids;
  for (int i = 0; i < 3; ++i) {
    std::string jid = "claimed" + std::to_string(i);
    jids.insert(jid);
    Json job = {{"class", "Work"}, {"args", Json::array()}, {"jid", jid}, {"queue", "default"},
                {"retry", false}, {"created_at", epoch_now() - 10}};
    store->add(i == 0 ? SortedSetName::kRetry : SortedSetName::kSchedule, epoch_now() - 5, job.dump());
  }
  // The ghost's poller took them out of the sets, then died before pushing them.
  ASSERT_EQ(store->pop_due(ghost, SortedSetName::kRetry, epoch_now(), 10).size(), 1u);
  ASSERT_EQ(store->pop_due(ghost, SortedSetName::kSchedule, epoch_now(), 10).size(), 2u);
  ASSERT_EQ(store->size(SortedSetName::kSchedule) + store->size(SortedSetName::kRetry), 0);

  ServerOptions options = fast_options();
  options.orphan_check_interval = 1h;  // only the start-up check can have done it
  options.initial_poll_delay = 0ms;
  options.poll_interval_average = 100ms;
  Server server(std::move(options), registry(ledger, 1ms), store);
  server.start();
  EXPECT_TRUE(eventually([&] { return ledger->distinct() == jids; }))
      << "due entries claimed by a dead poller must go back to their set and run";
  server.stop();
  EXPECT_EQ(store->size(SortedSetName::kSchedule) + store->size(SortedSetName::kRetry), 0);
  EXPECT_EQ(store->restore_claims(ghost), 0u);
  EXPECT_EQ(store->restore_claims(server.identity()), 0u);  // the live poller completed its own
}

}  // namespace
}  // namespace kiq
