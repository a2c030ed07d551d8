#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kiq/otel/context.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "test_util.hpp"

namespace kiq::otel {
namespace {

SpanPtr span_with_new_context() {
  return make_non_recording_span(
      SpanContext(TraceId::random(), SpanId::random(), TraceFlags(1), false));
}

TEST(Context, EmptyByDefault) {
  EXPECT_FALSE(current_context().span());
  EXPECT_FALSE(current_span()->context().valid());
  EXPECT_EQ(current_span(), invalid_span());
  EXPECT_TRUE(current_context().baggage().empty());
}

TEST(Context, ScopesNestAndRestore) {
  auto a = span_with_new_context();
  auto b = span_with_new_context();
  {
    Scope sa(a);
    EXPECT_EQ(current_span(), a);
    {
      Scope sb(b);
      EXPECT_EQ(current_span(), b);
    }
    EXPECT_EQ(current_span(), a);
  }
  EXPECT_FALSE(current_context().span());
}

TEST(Context, SpanScopeKeepsBaggage) {
  Scope with_bag(Context().with_baggage(Baggage().set("k", "v")));
  Scope with_span(span_with_new_context());
  EXPECT_EQ(current_context().baggage().get("k"), "v");
}

TEST(Context, ValuesAreImmutable) {
  Context base = Context().with_baggage(Baggage().set("k", "v"));
  Context changed = base.with_span(span_with_new_context()).with_untraced();
  EXPECT_FALSE(base.span());
  EXPECT_FALSE(base.untraced());
  EXPECT_TRUE(changed.untraced());
  EXPECT_EQ(changed.baggage().get("k"), "v");
}

TEST(Context, EachThreadHasItsOwnCurrentContext) {
  constexpr int kThreads = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  auto shared = span_with_new_context();
  Scope outer(shared);  // main thread's scope is invisible to workers
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      if (current_context().span()) ++failures;
      for (int i = 0; i < 200; ++i) {
        auto a = span_with_new_context();
        Scope sa(a);
        auto b = span_with_new_context();
        {
          Scope sb(b);
          if (current_span() != b) ++failures;
        }
        if (current_span() != a) ++failures;
      }
      if (current_context().span()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(current_span(), shared);
}

TEST(Context, ContextCarriedToAnotherThread) {
  testing::TestSdk sdk;
  auto parent = sdk.tracer->start_span("parent");
  Context ctx = current_context().with_span(parent);
  std::thread worker([&] {
    Scope scope(ctx);
    sdk.tracer->in_span("child", [] {});
  });
  worker.join();
  parent->end();
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].parent_span_id, parent->context().span_id());
}

TEST(Span, ConcurrentMutationIsSafe) {
  testing::TestSdk sdk;
  auto span = sdk.tracer->start_span("shared");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        span->set_attribute("t" + std::to_string(t), i);
        span->add_event("e");
        if (i == 50 && t == 0) span->end();
      }
    });
  }
  for (auto& t : threads) t.join();
  span->end();
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_LE(spans[0].events.size() + spans[0].dropped_events_count, 400u);
}

TEST(GlobalProvider, SetAndGetFromManyThreads) {
  testing::TestSdk sdk;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (t == 0) set_tracer_provider(i % 2 ? sdk.provider : nullptr);
        get_tracer("x")->start_span("s")->end();
      }
    });
  }
  for (auto& t : threads) t.join();
  set_tracer_provider(nullptr);
  SUCCEED();
}

}  // namespace
}  // namespace kiq::otel
