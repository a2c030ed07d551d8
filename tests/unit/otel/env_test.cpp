#include <gtest/gtest.h>

#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/env.hpp"
#include "kiq/otel/sdk/resource.hpp"
#include "kiq/otel/sdk/span_limits.hpp"
#include "test_util.hpp"

namespace kiq::otel::sdk {
namespace {

using testing::ScopedEnv;

std::string str(const Resource& r, std::string_view key) {
  const AttributeValue* v = r.find(key);
  return v ? std::get<std::string>(*v) : "<missing>";
}

TEST(Env, EmptyIsUnset) {
  ScopedEnv e("KIQ_TEST_VAR", "");
  EXPECT_FALSE(env_string("KIQ_TEST_VAR"));
  EXPECT_FALSE(env_int("KIQ_TEST_VAR"));
}

TEST(Env, Bool) {
  {
    ScopedEnv e("KIQ_TEST_VAR", "TrUe");
    EXPECT_TRUE(env_bool("KIQ_TEST_VAR"));
  }
  {
    ScopedEnv e("KIQ_TEST_VAR", "1");  // only "true" is true
    EXPECT_FALSE(env_bool("KIQ_TEST_VAR"));
  }
  {
    ScopedEnv e("OTEL_SDK_DISABLED", "true");
    EXPECT_TRUE(sdk_disabled_by_env());
  }
  ScopedEnv e("OTEL_SDK_DISABLED", std::nullopt);
  EXPECT_FALSE(sdk_disabled_by_env());
}

TEST(Env, IntsAndDurations) {
  {
    ScopedEnv e("KIQ_TEST_VAR", " 42 ");
    EXPECT_EQ(env_int("KIQ_TEST_VAR"), 42);
  }
  {
    ScopedEnv e("KIQ_TEST_VAR", "12abc");
    EXPECT_FALSE(env_int("KIQ_TEST_VAR"));
  }
  {
    ScopedEnv e("KIQ_TEST_VAR", "-5");
    EXPECT_EQ(env_int("KIQ_TEST_VAR"), -5);
    EXPECT_FALSE(env_duration_ms("KIQ_TEST_VAR"));
  }
  ScopedEnv e("KIQ_TEST_VAR", "1500");
  EXPECT_EQ(env_duration_ms("KIQ_TEST_VAR"), std::chrono::milliseconds(1500));
}

TEST(Resource, DefaultHasSdkAttributesAndServiceFallback) {
  ScopedEnv a("OTEL_RESOURCE_ATTRIBUTES", std::nullopt);
  ScopedEnv b("OTEL_SERVICE_NAME", std::nullopt);
  Resource r = Resource::default_resource();
  EXPECT_EQ(str(r, "telemetry.sdk.name"), "opentelemetry");
  EXPECT_EQ(str(r, "telemetry.sdk.language"), "cpp");
  EXPECT_NE(str(r, "telemetry.sdk.version"), "<missing>");
  EXPECT_EQ(str(r, "service.name"), "unknown_service:otel_tests");
}

TEST(Resource, FromEnvironmentPercentDecoded) {
  ScopedEnv a("OTEL_RESOURCE_ATTRIBUTES",
              " service.name = billing , deployment.environment=prod%2Ceu,k%3Dx=a%20b ");
  ScopedEnv b("OTEL_SERVICE_NAME", std::nullopt);
  Resource r = Resource::from_environment();
  EXPECT_EQ(str(r, "service.name"), "billing");
  EXPECT_EQ(str(r, "deployment.environment"), "prod,eu");
  EXPECT_EQ(str(r, "k=x"), "a b");
  EXPECT_EQ(str(Resource::default_resource(), "service.name"), "billing");
}

TEST(Resource, ServiceNameEnvWins) {
  ScopedEnv a("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs");
  ScopedEnv b("OTEL_SERVICE_NAME", "from-name");
  EXPECT_EQ(str(Resource::default_resource(), "service.name"), "from-name");
}

TEST(Resource, MalformedVariableDiscardedWhole) {
  ScopedEnv b("OTEL_SERVICE_NAME", std::nullopt);
  for (const char* bad : {"a=1,broken", "a=1,b=%zz", "a=1,=2"}) {
    ScopedEnv a("OTEL_RESOURCE_ATTRIBUTES", bad);
    EXPECT_TRUE(Resource::from_environment().attributes().empty()) << bad;
  }
}

TEST(Resource, MergeOtherWins) {
  Resource a(Attributes{{"x", std::string("1")}, {"y", std::string("1")}}, "s1");
  Resource b(Attributes{{"y", std::string("2")}});
  Resource m = a.merge(b);
  EXPECT_EQ(str(m, "x"), "1");
  EXPECT_EQ(str(m, "y"), "2");
  EXPECT_EQ(m.schema_url(), "s1");
}

TEST(Limits, FromEnvironment) {
  ScopedEnv a("OTEL_ATTRIBUTE_COUNT_LIMIT", "10");
  ScopedEnv b("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "5");  // signal-specific wins
  ScopedEnv c("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64");
  ScopedEnv d("OTEL_SPAN_EVENT_COUNT_LIMIT", "garbage");
  ScopedEnv e("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "-1");
  SpanLimits l = SpanLimits::from_environment();
  EXPECT_EQ(l.attribute_count_limit, 5u);
  EXPECT_EQ(l.attribute_value_length_limit, 64u);
  EXPECT_EQ(l.event_count_limit, 128u);
  EXPECT_EQ(l.attribute_per_link_count_limit, 128u);
}

TEST(BspOptions, DefaultsAndEnvironment) {
  {
    BatchSpanProcessorOptions o = BatchSpanProcessorOptions::from_environment();
    EXPECT_EQ(o.max_queue_size, 2048u);
    EXPECT_EQ(o.schedule_delay, std::chrono::milliseconds(5000));
    EXPECT_EQ(o.export_timeout, std::chrono::milliseconds(30000));
    EXPECT_EQ(o.max_export_batch_size, 512u);
  }
  ScopedEnv a("OTEL_BSP_MAX_QUEUE_SIZE", "100");
  ScopedEnv b("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500");
  ScopedEnv c("OTEL_BSP_SCHEDULE_DELAY", "250");
  ScopedEnv d("OTEL_BSP_EXPORT_TIMEOUT", "-3");
  BatchSpanProcessorOptions o = BatchSpanProcessorOptions::from_environment();
  EXPECT_EQ(o.max_queue_size, 100u);
  EXPECT_EQ(o.max_export_batch_size, 100u);  // clamped to the queue
  EXPECT_EQ(o.schedule_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(o.export_timeout, std::chrono::milliseconds(30000));
}

}  // namespace
}  // namespace kiq::otel::sdk
