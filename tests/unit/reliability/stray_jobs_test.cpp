// StraySweeper (src/server/stray_jobs.hpp): a live process's in-progress entries that nothing in
// the process holds go back to their queue, but only after the grace period.
#include "server/stray_jobs.hpp"

#include <gtest/gtest.h>

#include "kiq/store/memory.hpp"

namespace kiq::server {
namespace {

using namespace std::chrono_literals;
const std::string kSelf = "host:1:aaaaaaaaaaaa";

class StraySweeperTest : public ::testing::Test {
 protected:
  std::vector<FetchedJob> fetch(int n) {
    std::vector<std::string> payloads;
    for (int i = 0; i < n; ++i) payloads.push_back(R"({"class":"NoopJob","args":[],"jid":"s)" + std::to_string(next_++) + R"("})");
    store.push("default", payloads);
    std::vector<std::string> queues = {"default"};
    return store.fetch(kSelf, queues, static_cast<std::size_t>(n), 10ms);
  }

  MemoryStore store;
  StraySweeper sweeper{10s};
  StraySweeper::Clock::time_point t0 = StraySweeper::Clock::now();
  int next_ = 0;
};

TEST_F(StraySweeperTest, HeldJobsAreNeverTouched) {
  auto held = fetch(3);
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0), 0u);
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0 + 1h), 0u);
  EXPECT_EQ(store.in_progress(kSelf).size(), 3u);
  EXPECT_EQ(store.queue_size("default"), 0);
}

TEST_F(StraySweeperTest, StrayJobsGoBackAfterTheGraceOnly) {
  auto jobs = fetch(3);
  std::vector<FetchedJob> held = {jobs[0]};  // jobs[1], jobs[2]: e.g. their acks failed
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0), 0u) << "first sighting: only suspect";
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0 + 9s), 0u) << "still within the grace";
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0 + 10s), 2u);
  EXPECT_EQ(store.queue_size("default"), 2);
  ASSERT_EQ(store.in_progress(kSelf).size(), 1u);
  EXPECT_EQ(store.in_progress(kSelf)[0].payload, jobs[0].payload);
}

TEST_F(StraySweeperTest, AJobHeldAgainIsNoLongerSuspect) {
  auto jobs = fetch(1);
  EXPECT_EQ(sweeper.sweep(store, kSelf, {}, t0), 0u);  // between fetch and buffer, say
  EXPECT_EQ(sweeper.sweep(store, kSelf, jobs, t0 + 5s), 0u);
  EXPECT_EQ(sweeper.sweep(store, kSelf, {}, t0 + 12s), 0u) << "suspect again since 12 s only";
  EXPECT_EQ(sweeper.sweep(store, kSelf, {}, t0 + 22s), 1u);
}

TEST_F(StraySweeperTest, AckedJobsDisappearFromSuspects) {
  auto jobs = fetch(1);
  EXPECT_EQ(sweeper.sweep(store, kSelf, {}, t0), 0u);
  store.ack(kSelf, jobs[0]);  // the slow ack did arrive
  EXPECT_EQ(sweeper.sweep(store, kSelf, {}, t0 + 20s), 0u);
  EXPECT_EQ(store.queue_size("default"), 0);
}

TEST_F(StraySweeperTest, DuplicatePayloadsAreCountedAsAMultiset) {
  std::string payload = R"({"class":"NoopJob","args":[],"jid":"same"})";
  std::vector<std::string> two = {payload, payload};
  store.push("default", two);
  std::vector<std::string> queues = {"default"};
  auto jobs = store.fetch(kSelf, queues, 2, 10ms);
  ASSERT_EQ(jobs.size(), 2u);
  std::vector<FetchedJob> held = {jobs[0]};  // one copy still running
  sweeper.sweep(store, kSelf, held, t0);
  EXPECT_EQ(sweeper.sweep(store, kSelf, held, t0 + 10s), 1u);
  EXPECT_EQ(store.in_progress(kSelf).size(), 1u);
}

}  // namespace
}  // namespace kiq::server
