#include <gtest/gtest.h>

#include <string>

#include "kiq/otel/trace_state.hpp"

namespace kiq::otel {
namespace {

std::string members(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ',';
    s += "k" + std::to_string(i) + "=v" + std::to_string(i);
  }
  return s;
}

TEST(TraceState, ParsesSimpleList) {
  auto ts = TraceState::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->size(), 2u);
  EXPECT_EQ(ts->get("rojo"), "00f067aa0ba902b7");
  EXPECT_EQ(ts->get("congo"), "t61rcWkgMzE");
  EXPECT_EQ(ts->to_header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

TEST(TraceState, ThirtyTwoMembersOkThirtyThreeDiscarded) {
  auto ok = TraceState::parse(members(32));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 32u);
  EXPECT_FALSE(TraceState::parse(members(33)));
}

TEST(TraceState, KeyLengthLimit) {
  std::string k256(256, 'a'), k257(257, 'a');
  EXPECT_TRUE(TraceState::parse(k256 + "=v"));
  EXPECT_FALSE(TraceState::parse(k257 + "=v"));
}

TEST(TraceState, KeyGrammar) {
  EXPECT_FALSE(TraceState::parse("@foo=bar"));
  EXPECT_FALSE(TraceState::parse("Foo=bar"));  // uppercase
  EXPECT_FALSE(TraceState::parse("foo.bar=baz"));
  EXPECT_TRUE(TraceState::parse("tenant@system=v"));
  EXPECT_TRUE(TraceState::parse("1foo=v"));
  EXPECT_TRUE(TraceState::parse("foo_-*/@x=v"));
}

TEST(TraceState, ValueGrammar) {
  EXPECT_TRUE(TraceState::parse("foo=bar baz"));  // inner space ok
  EXPECT_FALSE(TraceState::parse("foo="));        // empty value
  EXPECT_FALSE(TraceState::parse("foo=a=b"));     // '=' not allowed in value
  EXPECT_FALSE(TraceState::parse("foo=\x01"));
  EXPECT_TRUE(TraceState::parse("foo=" + std::string(256, 'x')));
  EXPECT_FALSE(TraceState::parse("foo=" + std::string(257, 'x')));
  EXPECT_FALSE(TraceState::valid_value("bar "));  // must not end with a space
}

TEST(TraceState, OwsAndEmptyMembers) {
  auto ts = TraceState::parse(" \tfoo=1 , ,\t, bar=2\t ");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->to_header(), "foo=1,bar=2");
  auto empty = TraceState::parse("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(TraceState::parse(" , "));
}

TEST(TraceState, DuplicateKeysDiscardWhole) {
  EXPECT_FALSE(TraceState::parse("foo=1,bar=2,foo=3"));
}

TEST(TraceState, MissingEqualsInvalid) { EXPECT_FALSE(TraceState::parse("foo")); }

TEST(TraceState, SetMovesKeyToFront) {
  auto ts = *TraceState::parse("a=1,b=2,c=3");
  auto updated = ts.set("c", "9");
  EXPECT_EQ(updated.to_header(), "c=9,a=1,b=2");
  auto added = ts.set("d", "4");
  EXPECT_EQ(added.to_header(), "d=4,a=1,b=2,c=3");
  EXPECT_EQ(ts.to_header(), "a=1,b=2,c=3");  // immutable
}

TEST(TraceState, SetRejectsInvalidInput) {
  auto ts = *TraceState::parse("a=1");
  EXPECT_EQ(ts.set("Bad", "1"), ts);
  EXPECT_EQ(ts.set("ok", "bad,value"), ts);
  EXPECT_EQ(ts.set("ok", ""), ts);
}

TEST(TraceState, SetDropsRightMostBeyond32) {
  auto ts = *TraceState::parse(members(32));
  auto added = ts.set("new", "x");
  EXPECT_EQ(added.size(), 32u);
  EXPECT_EQ(added.members().front().first, "new");
  EXPECT_FALSE(added.get("k31"));
  EXPECT_TRUE(added.get("k30"));
}

TEST(TraceState, Erase) {
  auto ts = *TraceState::parse("a=1,b=2");
  EXPECT_EQ(ts.erase("a").to_header(), "b=2");
  EXPECT_EQ(ts.erase("zz").to_header(), "a=1,b=2");
}

}  // namespace
}  // namespace kiq::otel
