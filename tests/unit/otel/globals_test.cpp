// The global tracer provider and propagator under concurrent set/read: every read sees a live,
// installed object, and once a set returns every thread's next read sees it (the per-thread
// caches refresh on the generation bump).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "kiq/otel/propagation.hpp"
#include "kiq/otel/tracer_provider.hpp"

namespace kiq::otel {
namespace {

class CountingProvider final : public TracerProvider {
 public:
  TracerPtr get_tracer(std::string_view, std::string_view, std::string_view) override {
    return noop_tracer();
  }
};

TEST(GlobalsTest, SetBumpsGenerationAndReadSeesIt) {
  const auto before = tracer_provider_generation();
  auto provider = std::make_shared<CountingProvider>();
  std::weak_ptr<TracerProvider> weak = provider;
  EXPECT_EQ(tracer_provider(), noop_tracer_provider());  // fills this thread's cache
  set_tracer_provider(provider);
  EXPECT_NE(tracer_provider_generation(), before);
  EXPECT_EQ(tracer_provider(), provider);
  provider.reset();
  set_tracer_provider(nullptr);
  EXPECT_EQ(tracer_provider(), noop_tracer_provider());
  EXPECT_TRUE(weak.expired()) << "the setting thread must not keep the old provider alive";

  const auto pgen = global_propagator_generation();
  auto propagator = make_propagator("tracecontext");
  set_global_propagator(propagator);
  EXPECT_NE(global_propagator_generation(), pgen);
  EXPECT_EQ(global_propagator(), propagator);
  set_global_propagator(nullptr);
  EXPECT_NE(global_propagator(), propagator);
}

TEST(GlobalsTest, ConcurrentSetAndReadAlwaysSeeLiveObjects) {
  std::vector<std::shared_ptr<TracerProvider>> providers;
  for (int i = 0; i < 4; ++i) providers.push_back(std::make_shared<CountingProvider>());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<int> stale{0};
  auto last = std::make_shared<CountingProvider>();
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto p = tracer_provider();
        if (!p || !p->get_tracer("x")) bad.fetch_add(1);
        auto prop = global_propagator();
        if (!prop) bad.fetch_add(1);
      }
      // `last` was set before `stop`: a thread with a warm cache must see it now.
      if (tracer_provider() != last) stale.fetch_add(1);
    });
  }
  for (int i = 0; i < 400; ++i) {
    set_tracer_provider(providers[i % providers.size()]);
    set_global_propagator(i % 2 ? make_propagator("tracecontext") : nullptr);
  }
  set_tracer_provider(last);
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(stale.load(), 0);
  set_tracer_provider(nullptr);
  set_global_propagator(nullptr);
}

}  // namespace
}  // namespace kiq::otel
