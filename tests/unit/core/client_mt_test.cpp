// Client used from many threads at once, and store errors reaching the caller.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "kiq/client.hpp"
#include "kiq/store/memory.hpp"

namespace kiq {
namespace {

TEST(ClientThreads, ConcurrentPushesAllLandWithUniqueJids) {
  auto store = std::make_shared<MemoryStore>();
  Client client(store);
  constexpr int kThreads = 4, kEach = 250;
  std::vector<std::vector<std::string>> jids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (i % 2) jids[t].push_back(*client.perform_async("X", {t, i}));
        else jids[t].push_back(client.push_bulk("X", {Json::array({t, i})}).at(0));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : jids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(store->queue_size("default"), kThreads * kEach);
}

class DownStore : public MemoryStore {
 public:
  void push(std::string_view, std::span<const std::string>) override {
    throw StoreError("redis://127.0.0.1:1/0: connection refused");
  }
  void schedule(std::span<const ScoredPayload>) override {
    throw StoreError("redis://127.0.0.1:1/0: connection refused");
  }
};

TEST(ClientErrors, StoreErrorsReachTheCaller) {
  Client client(std::make_shared<DownStore>());
  EXPECT_THROW(client.perform_async("X", {}), StoreError);
  EXPECT_THROW(client.perform_in(60, "X", {}), StoreError);
  EXPECT_THROW(client.push_bulk("X", {Json::array()}), StoreError);
  EXPECT_THROW(Client(nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace kiq
