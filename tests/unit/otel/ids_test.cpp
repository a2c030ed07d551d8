#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

// A forked child (a pre-forking server's worker) must not repeat its parent's ids: it starts
// with a copy of the forking thread's generator.
TEST(Ids, AForkedChildMakesOtherIdsThanItsParent) {
  (void)TraceId::random();  // this thread's generator is seeded before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string hex = TraceId::random().to_hex();
    ssize_t n = write(fds[1], hex.data(), hex.size());
    _exit(n == static_cast<ssize_t>(hex.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string parent = TraceId::random().to_hex();
  char buf[64] = {};
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(n, 32);
  EXPECT_NE(std::string(buf, 32), parent);
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
