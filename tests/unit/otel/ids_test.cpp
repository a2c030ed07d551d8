#include <gtest/gtest.h>

#include <set>

#include "kiq/otel/ids.hpp"

namespace kiq::otel {
namespace {

TEST(Ids, RandomIdsAreValidAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    auto t = TraceId::random();
    auto s = SpanId::random();
    ASSERT_TRUE(t.valid());
    ASSERT_TRUE(s.valid());
    traces.insert(t.to_hex());
    spans.insert(s.to_hex());
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

TEST(Ids, HexRoundTrip) {
  auto t = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->bytes()[0], 0x4b);
  EXPECT_EQ(t->bytes()[15], 0x36);
  auto s = SpanId::from_hex("00f067aa0ba902b7");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to_hex(), "00f067aa0ba902b7");
}

TEST(Ids, RejectsBadHex) {
  EXPECT_FALSE(TraceId::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736"));  // uppercase
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e473"));   // 31 chars
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736a"));
  EXPECT_FALSE(TraceId::from_hex("zbf92f3577b34da6a3ce929d0e0e4736"));
  EXPECT_FALSE(SpanId::from_hex("00f067aa0ba902b"));
  EXPECT_FALSE(SpanId::from_hex(""));
}

TEST(Ids, ZeroIsInvalid) {
  EXPECT_FALSE(TraceId().valid());
  EXPECT_FALSE(SpanId().valid());
  auto z = TraceId::from_hex("00000000000000000000000000000000");
  ASSERT_TRUE(z);
  EXPECT_FALSE(z->valid());
}

TEST(Ids, TraceFlags) {
  EXPECT_FALSE(TraceFlags().sampled());
  EXPECT_TRUE(TraceFlags(0x01).sampled());
  EXPECT_TRUE(TraceFlags(0x03).sampled());
  EXPECT_FALSE(TraceFlags(0x02).sampled());
}

}  // namespace
}  // namespace kiq::otel
