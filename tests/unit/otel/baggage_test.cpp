#include <gtest/gtest.h>

#include <map>

#include "kiq/otel/baggage.hpp"
#include "kiq/otel/propagation.hpp"

namespace kiq::otel {
namespace {

using BP = BaggagePropagator;

TEST(Baggage, ImmutableSetGetRemove) {
  Baggage empty;
  EXPECT_TRUE(empty.empty());
  Baggage a = empty.set("k", "v1");
  Baggage b = a.set("k", "v2", "meta");
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(a.get("k"), "v1");
  EXPECT_EQ(b.get("k"), "v2");
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.find("k")->metadata, "meta");
  EXPECT_TRUE(b.remove("k").empty());
  EXPECT_EQ(b.remove("zz"), b);
  EXPECT_FALSE(b.get("K"));  // case-sensitive
}

TEST(BaggageParse, Simple) {
  Baggage b = BP::parse("key1=value1,key2=value2");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.get("key1"), "value1");
  EXPECT_EQ(b.get("key2"), "value2");
}

TEST(BaggageParse, TrimsOws) {
  Baggage b = BP::parse("  key1 \t=  value1 \t,\tkey2=value2  ");
  EXPECT_EQ(b.get("key1"), "value1");
  EXPECT_EQ(b.get("key2"), "value2");
}

TEST(BaggageParse, PercentDecoding) {
  Baggage b = BP::parse("user=Al%20ice%2C%3D,pct=100%25");
  EXPECT_EQ(b.get("user"), "Al ice,=");
  EXPECT_EQ(b.get("pct"), "100%");
}

TEST(BaggageParse, BadUtf8BecomesReplacementChar) {
  Baggage b = BP::parse("k=a%FFb");
  EXPECT_EQ(b.get("k"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(BP::parse("k=%E2%82%AC").get("k"), "\xE2\x82\xAC");  // euro sign stays
}

TEST(BaggageParse, Properties) {
  Baggage b = BP::parse("key1=value1;property1;property2=v2 , key2=value2 ; p = x");
  ASSERT_TRUE(b.find("key1"));
  EXPECT_EQ(b.find("key1")->metadata, "property1;property2=v2");
  EXPECT_EQ(b.find("key2")->metadata, "p=x");
}

TEST(BaggageParse, InvalidMembersSkipped) {
  Baggage b = BP::parse("good=1,noequals,bad key=2,=3,k=va lue,k2=\"q\",ok=%zz,last=ok");
  EXPECT_EQ(b.get("good"), "1");
  EXPECT_EQ(b.get("last"), "ok");
  EXPECT_EQ(b.size(), 2u);
}

TEST(BaggageParse, EmptyValueAndMembers) {
  Baggage b = BP::parse(",,k=,  ,");
  EXPECT_EQ(b.get("k"), "");
  EXPECT_EQ(b.size(), 1u);
}

TEST(BaggageParse, DuplicateNameLastWins) {
  EXPECT_EQ(BP::parse("k=1,k=2").get("k"), "2");
}

TEST(BaggageParse, MemberLimit) {
  std::string header;
  for (int i = 0; i < 200; ++i) header += "k" + std::to_string(i) + "=v,";
  EXPECT_EQ(BP::parse(header).size(), BP::kMaxMembers);
}

TEST(BaggageParse, ByteLimit) {
  std::string header = "a=" + std::string(5000, 'x') + ",b=" + std::string(5000, 'y') + ",c=1";
  Baggage b = BP::parse(header);
  EXPECT_TRUE(b.get("a"));
  EXPECT_FALSE(b.get("b"));
}

TEST(BaggageFormat, EncodesValues) {
  Baggage b = Baggage().set("user", "Al ice,=%").set("k", "v", "p1;p2=x");
  EXPECT_EQ(BP::format(b), "user=Al%20ice%2C%3D%25,k=v;p1;p2=x");
  EXPECT_EQ(BP::parse(BP::format(b)), b);
}

TEST(BaggageFormat, SkipsUnrepresentableNamesAndHonoursSize) {
  Baggage b = Baggage().set("bad name", "x").set("ok", "1");
  EXPECT_EQ(BP::format(b), "ok=1");
  Baggage big = Baggage().set("a", std::string(6000, 'x')).set("b", std::string(6000, 'y'));
  EXPECT_LE(BP::format(big).size(), BP::kMaxBytes);
}

TEST(BaggagePropagator, InjectExtract) {
  Context ctx = Context().with_baggage(Baggage().set("tenant", "acme"));
  std::map<std::string, std::string> m;
  MapCarrier carrier(m);
  BP().inject(ctx, carrier);
  EXPECT_EQ(m["baggage"], "tenant=acme");
  Context out = BP().extract(carrier, Context());
  EXPECT_EQ(out.baggage().get("tenant"), "acme");
  std::map<std::string, std::string> none;
  MapCarrier none_carrier(none);
  BP().inject(Context(), none_carrier);
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace kiq::otel
