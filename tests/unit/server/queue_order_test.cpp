// Queue order: Sidekiq's strict and weighted semantics, `-q name,weight` parsing.
#include <gtest/gtest.h>

#include <map>

#include "server/queue_order.hpp"

namespace kiq::server {
namespace {

TEST(QueueWeightParse, NameAndOptionalWeight) {
  EXPECT_EQ(QueueWeight::parse("default").name, "default");
  EXPECT_EQ(QueueWeight::parse("default").weight, 0);
  EXPECT_EQ(QueueWeight::parse("critical,3").weight, 3);
  EXPECT_THROW(QueueWeight::parse(""), std::invalid_argument);
  EXPECT_THROW(QueueWeight::parse(",3"), std::invalid_argument);
  EXPECT_THROW(QueueWeight::parse("q,x"), std::invalid_argument);
  EXPECT_THROW(QueueWeight::parse("q,-1"), std::invalid_argument);
  EXPECT_THROW(QueueWeight::parse("q,3x"), std::invalid_argument);
}

TEST(QueueOrderTest, NoWeightsMeansStrictFixedOrder) {
  QueueOrder order({{"a", 0}, {"b", 0}, {"a", 0}}, false);
  EXPECT_TRUE(order.strict());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order.next(), (std::vector<std::string>{"a", "b"}));
}

TEST(QueueOrderTest, StrictFlagWinsOverWeights) {
  QueueOrder order({{"a", 1}, {"b", 5}}, true);
  EXPECT_TRUE(order.strict());
  EXPECT_EQ(order.next(), (std::vector<std::string>{"a", "b"}));
}

TEST(QueueOrderTest, WeightedOrderFavoursHeavierQueues) {
  QueueOrder order({{"a", 3}, {"b", 1}}, false);
  EXPECT_FALSE(order.strict());
  std::map<std::string, int> first;
  constexpr int kRounds = 4000;
  for (int i = 0; i < kRounds; ++i) {
    auto o = order.next();
    ASSERT_EQ(o.size(), 2u);  // uniq
    ++first[o[0]];
  }
  double share = double(first["a"]) / kRounds;  // expected 0.75
  EXPECT_GT(share, 0.65);
  EXPECT_LT(share, 0.85);
}

TEST(QueueOrderTest, RejectsBadQueues) {
  EXPECT_THROW(QueueOrder({}, false), std::invalid_argument);
  EXPECT_THROW(QueueOrder({{"", 0}}, false), std::invalid_argument);
  EXPECT_THROW(QueueOrder({{"a", -2}}, false), std::invalid_argument);
}

}  // namespace
}  // namespace kiq::server
