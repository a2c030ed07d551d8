#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>

#include "kiq/otel/propagation.hpp"
#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/tracer_provider.hpp"
#include "test_util.hpp"

namespace kiq::otel {
namespace {

using testing::find_attr;
using testing::TestSdk;

TEST(NoopApi, DefaultGlobalProviderIsNoop) {
  auto tracer = get_tracer("x");
  auto span = tracer->start_span("s");
  EXPECT_FALSE(span->is_recording());
  EXPECT_FALSE(span->context().valid());
  span->set_attribute("a", 1);
  span->end();
  int r = tracer->in_span("t", [](Span& s) {
    EXPECT_FALSE(s.is_recording());
    return 7;
  });
  EXPECT_EQ(r, 7);
}

TEST(NoopApi, ChildOfRemoteParentCarriesItsContext) {
  SpanContext remote(TraceId::random(), SpanId::random(), TraceFlags(1), true);
  auto span = noop_tracer()->start_span("s", {.parent = remote});
  EXPECT_EQ(span->context(), remote);
  Scope scope(make_non_recording_span(remote));
  EXPECT_EQ(noop_tracer()->start_span("c")->context(), remote);
  EXPECT_FALSE(noop_tracer()->start_span("r", {.parent = kRoot})->context().valid());
}

TEST(NoopApi, SetGlobalProvider) {
  TestSdk sdk;
  set_tracer_provider(sdk.provider);
  EXPECT_TRUE(get_tracer("x")->start_span("s")->is_recording());
  set_tracer_provider(nullptr);
  EXPECT_FALSE(get_tracer("x")->start_span("s")->is_recording());
}

TEST(Span, RecordsBasics) {
  TestSdk sdk;
  auto span = sdk.tracer->start_span("job", {.kind = SpanKind::kConsumer,
                                             .attributes = {{"a", std::int64_t{1}}}});
  ASSERT_TRUE(span->is_recording());
  span->set_attribute("user.id", 42);
  span->set_attribute("name", "literal");
  span->set_attribute("ok", true);
  span->set_attribute("ratio", 0.5);
  span->set_attribute("tags", std::vector<std::string>{"x", "y"});
  span->set_attribute("a", 2);  // replaces
  span->add_event("created_at", {}, Timestamp(std::chrono::seconds(1700000000)));
  span->update_name("job2");
  span->end();
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 1u);
  const auto& s = spans[0];
  EXPECT_EQ(s.name, "job2");
  EXPECT_EQ(s.kind, SpanKind::kConsumer);
  EXPECT_EQ(s.attributes.size(), 6u);
  EXPECT_EQ(std::get<std::int64_t>(*find_attr(s.attributes, "a")), 2);
  EXPECT_EQ(std::get<std::int64_t>(*find_attr(s.attributes, "user.id")), 42);
  EXPECT_EQ(std::get<std::string>(*find_attr(s.attributes, "name")), "literal");
  EXPECT_EQ(std::get<bool>(*find_attr(s.attributes, "ok")), true);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].time_unix_nano, 1700000000ULL * 1000000000ULL);
  EXPECT_LE(s.start_unix_nano, s.end_unix_nano);
  EXPECT_TRUE(s.context.sampled());
  EXPECT_FALSE(s.has_parent());
  ASSERT_TRUE(s.scope);
  EXPECT_EQ(s.scope->name, "kiq.test");
  EXPECT_EQ(s.scope->version, "1.0");
  ASSERT_TRUE(s.resource);
  EXPECT_EQ(std::get<std::string>(*s.resource->find("telemetry.sdk.language")), "cpp");
}

TEST(Span, EndIsIdempotentAndFreezes) {
  TestSdk sdk;
  auto span = sdk.tracer->start_span("s");
  span->end(Timestamp(std::chrono::seconds(2)));
  span->end(Timestamp(std::chrono::seconds(3)));
  span->set_attribute("late", 1);
  span->add_event("late");
  span->set_status(StatusCode::kError, "late");
  span->update_name("late");
  EXPECT_FALSE(span->is_recording());
  EXPECT_TRUE(span->context().valid());  // context survives end()
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].end_unix_nano, 2000000000ULL);
  EXPECT_EQ(spans[0].name, "s");
  EXPECT_TRUE(spans[0].attributes.empty());
  EXPECT_TRUE(spans[0].events.empty());
  EXPECT_EQ(spans[0].status_code, StatusCode::kUnset);
}

TEST(Span, StatusPrecedence) {
  TestSdk sdk;
  auto a = sdk.tracer->start_span("a");
  a->set_status(StatusCode::kError, "bad");
  a->set_status(StatusCode::kUnset, "ignored");
  a->end();
  auto b = sdk.tracer->start_span("b");
  b->set_status(StatusCode::kOk, "dropped description");
  b->set_status(StatusCode::kError, "too late");
  b->end();
  auto c = sdk.tracer->start_span("c");
  c->set_status(StatusCode::kError, "first");
  c->set_status(StatusCode::kError, "second");
  c->end();
  auto d = sdk.tracer->start_span("d");
  d->set_status(StatusCode::kError, "x");
  d->set_status(StatusCode::kOk);
  d->end();
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(spans[0].status_description, "bad");
  EXPECT_EQ(spans[1].status_code, StatusCode::kOk);
  EXPECT_EQ(spans[1].status_description, "");
  EXPECT_EQ(spans[2].status_description, "second");
  EXPECT_EQ(spans[3].status_code, StatusCode::kOk);
  EXPECT_EQ(spans[3].status_description, "");
}

TEST(Span, AttributeLimitsDropNewAndCount) {
  sdk::SpanLimits limits;
  limits.attribute_count_limit = 2;
  limits.attribute_value_length_limit = 3;
  limits.event_count_limit = 1;
  limits.link_count_limit = 1;
  limits.attribute_per_event_count_limit = 1;
  limits.attribute_per_link_count_limit = 1;
  TestSdk sdk({.limits = limits});
  SpanContext l1(TraceId::random(), SpanId::random(), TraceFlags(1), false);
  SpanContext l2(TraceId::random(), SpanId::random(), TraceFlags(1), false);
  auto span = sdk.tracer->start_span("s", {.links = {{l1, {{"x", 1.0}, {"y", 2.0}}}}});
  span->set_attribute("a", "abcdef");
  span->set_attribute("b", std::vector<std::string>{"12345", "ab"});
  span->set_attribute("c", 1);  // dropped
  span->set_attribute("a", "z");  // replacing is not dropping
  span->add_event("e1", {{"k1", true}, {"k2", false}});
  span->add_event("e2");  // dropped
  span->add_link(l2);     // dropped
  span->end();
  auto s = sdk.exporter->finished_spans().at(0);
  EXPECT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(s.dropped_attributes_count, 1u);
  EXPECT_EQ(std::get<std::string>(*find_attr(s.attributes, "a")), "z");
  EXPECT_EQ(std::get<std::vector<std::string>>(*find_attr(s.attributes, "b")),
            (std::vector<std::string>{"123", "ab"}));
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.dropped_events_count, 1u);
  EXPECT_EQ(s.events[0].attributes.size(), 1u);
  EXPECT_EQ(s.events[0].dropped_attributes_count, 1u);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.dropped_links_count, 1u);
  EXPECT_EQ(s.links[0].context, l1);
  EXPECT_EQ(s.links[0].dropped_attributes_count, 1u);
}

TEST(Span, TruncationKeepsUtf8Whole) {
  sdk::SpanLimits limits;
  limits.attribute_value_length_limit = 2;
  TestSdk sdk({.limits = limits});
  auto span = sdk.tracer->start_span("s");
  span->set_attribute("euro", "\xE2\x82\xAC");  // 3-byte char does not fit in 2
  span->end();
  EXPECT_EQ(std::get<std::string>(*find_attr(sdk.exporter->finished_spans()[0].attributes, "euro")), "");
}

// Each set_attribute overload (typed fast paths and AttributeValue) replaces a key's value,
// whatever the previous type; truncation applies to every string path.
TEST(Span, SetAttributeOverloadsReplaceAcrossTypes) {
  sdk::SpanLimits limits;
  limits.attribute_value_length_limit = 4;
  TestSdk sdk({.limits = limits});
  auto span = sdk.tracer->start_span("s");
  span->set_attribute("k", 1);
  span->set_attribute("k", "a long string");  // const char*, truncated
  span->set_attribute("k", true);
  span->set_attribute("k", 2.5);
  span->set_attribute("k", std::string_view("view value"));
  span->set_attribute("n", static_cast<const char*>(nullptr));  // no crash: the empty string
  span->set_attribute("o", std::string("owned value"));
  span->set_attribute("v", AttributeValue(std::vector<std::string>{"abcdef"}));
  span->set_attribute("u", 7u);
  span->end();
  const auto spans = sdk.exporter->finished_spans();
  const auto& attrs = spans[0].attributes;
  ASSERT_EQ(attrs.size(), 5u);
  EXPECT_EQ(*find_attr(attrs, "k"), AttributeValue(std::string("view")));
  EXPECT_EQ(*find_attr(attrs, "n"), AttributeValue(std::string()));
  EXPECT_EQ(*find_attr(attrs, "o"), AttributeValue(std::string("owne")));
  EXPECT_EQ(*find_attr(attrs, "v"), AttributeValue(std::vector<std::string>{"abcd"}));
  EXPECT_EQ(*find_attr(attrs, "u"), AttributeValue(std::int64_t{7}));
}

TEST(Span, ParentChildAndTracestate) {
  TestSdk sdk;
  SpanContext remote(TraceId::random(), SpanId::random(), TraceFlags(1), true,
                     *TraceState::parse("vendor=1"));
  auto parent = sdk.tracer->start_span("parent", {.parent = remote});
  {
    Scope scope(parent);
    auto child = sdk.tracer->start_span("child");
    EXPECT_EQ(child->context().trace_id(), remote.trace_id());
    EXPECT_EQ(child->context().trace_state().to_header(), "vendor=1");
    child->end();
    auto root = sdk.tracer->start_span("root", {.parent = kRoot});
    EXPECT_NE(root->context().trace_id(), remote.trace_id());
    root->end();
  }
  parent->end();
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].parent_span_id, parent->context().span_id());
  EXPECT_FALSE(spans[0].parent_is_remote);
  EXPECT_FALSE(spans[1].has_parent());
  EXPECT_EQ(spans[2].parent_span_id, remote.span_id());
  EXPECT_TRUE(spans[2].parent_is_remote);
}

// StartSpanOptions are read, not consumed: one options object refilled in place starts many
// spans, each recording what the options held at its start (kiq's job spans rely on it).
TEST(Span, StartOptionsAreReadNotConsumed) {
  TestSdk sdk;
  SpanContext remote(TraceId::random(), SpanId::random(), TraceFlags(1), true);
  StartSpanOptions options{.kind = SpanKind::kConsumer, .parent = kRoot};
  options.attributes = {{"messaging.message_id", std::string("0123456789abcdef01234567")},
                        {"n", std::int64_t{1}},
                        {"tags", std::vector<std::string>{"x", "y"}}};
  options.links = {{remote, {{"link.attr", std::string("a rather long link attribute")}}}};
  const StartSpanOptions before = options;
  for (int i = 0; i < 3; ++i) {
    std::get<std::string>(options.attributes[0].value).back() = static_cast<char>('a' + i);
    options.attributes[1].value = std::int64_t{i};
    sdk.tracer->start_span("job", options)->end();
    EXPECT_EQ(options.attributes.size(), 3u);
    EXPECT_EQ(options.attributes[2].value, before.attributes[2].value);
    ASSERT_EQ(options.links.size(), 1u);
    EXPECT_EQ(options.links[0].attributes[0].value, before.links[0].attributes[0].value);
  }
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& s = spans[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.kind, SpanKind::kConsumer);
    EXPECT_FALSE(s.has_parent());
    EXPECT_EQ(*find_attr(s.attributes, "messaging.message_id"),
              AttributeValue(std::string("0123456789abcdef0123456") + static_cast<char>('a' + i)));
    EXPECT_EQ(*find_attr(s.attributes, "n"), AttributeValue(std::int64_t{i}));
    EXPECT_EQ(*find_attr(s.attributes, "tags"), before.attributes[2].value);
    ASSERT_EQ(s.links.size(), 1u);
    EXPECT_EQ(s.links[0].context, remote);
    EXPECT_EQ(*find_attr(s.links[0].attributes, "link.attr"), before.links[0].attributes[0].value);
  }
}

// Copies each ended span and leaves the original in place, as the batch processor does with
// a serializing exporter: the span's record then keeps its attribute list for the next span.
class CopyingProcessor final : public sdk::SpanProcessor {
 public:
  void on_end(sdk::SpanData&& span) override { spans.push_back(span); }
  bool force_flush(std::chrono::milliseconds) override { return true; }
  bool shutdown(std::chrono::milliseconds) override { return true; }
  std::vector<sdk::SpanData> spans;
};

// A record reused with the keys of the previous span in the same places takes the values
// without a duplicate search; duplicates among the start options must still collapse into one
// entry (the last value), also after a span that was dropped without end() left its record
// with a stale entry repeating a key.
TEST(Span, ReusedRecordsKeepAttributeKeysUnique) {
  auto copies = std::make_shared<CopyingProcessor>();
  sdk::TracerProviderOptions provider_options;
  provider_options.processors.push_back(copies);
  auto provider = std::make_shared<sdk::TracerProvider>(std::move(provider_options));
  auto tracer = provider->get_tracer("kiq.test");
  auto start = [&](Attributes attributes) {
    StartSpanOptions options;
    options.attributes = std::move(attributes);
    return tracer->start_span("s", options);
  };
  auto keys_of = [](const sdk::SpanData& s) {
    std::vector<std::string> keys;
    for (const auto& a : s.attributes) keys.push_back(a.key);
    return keys;
  };
  const auto i64 = [](std::int64_t v) { return AttributeValue(v); };
  start({{"a", i64(1)}, {"b", i64(1)}, {"c", i64(1)}})->end();
  start({{"a", i64(2)}, {"b", i64(2)}, {"c", i64(2)}})->end();  // same keys, same places
  start({{"b", i64(7)}});  // never ended: the record holds [b, b (stale), c (stale)]
  start({{"b", i64(3)}, {"b", i64(4)}})->end();                 // b repeated inside the prefix
  start({{"b", i64(8)}, {"n", i64(8)}, {"b", i64(9)}})->end();  // b repeated after the prefix
  start({{"c", i64(5)}, {"n", i64(5)}});  // never ended: [c, n]
  start({{"c", i64(6)}, {"n", i64(6)}, {"o", i64(6)}})->end();
  ASSERT_EQ(copies->spans.size(), 5u);
  const auto& s = copies->spans;
  EXPECT_EQ(keys_of(s[0]), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(keys_of(s[1]), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*find_attr(s[1].attributes, "c"), i64(2));
  EXPECT_EQ(keys_of(s[2]), (std::vector<std::string>{"b"}));
  EXPECT_EQ(*find_attr(s[2].attributes, "b"), i64(4));
  EXPECT_EQ(keys_of(s[3]), (std::vector<std::string>{"b", "n"}));
  EXPECT_EQ(*find_attr(s[3].attributes, "b"), i64(9));
  EXPECT_EQ(keys_of(s[4]), (std::vector<std::string>{"c", "n", "o"}));
  EXPECT_EQ(*find_attr(s[4].attributes, "o"), i64(6));
  for (const auto& span : s) EXPECT_EQ(span.dropped_attributes_count, 0u);
}

TEST(Span, SampledOutParentGivesNonRecordingChild) {
  TestSdk sdk;
  SpanContext not_sampled(TraceId::random(), SpanId::random(), TraceFlags(0), true);
  auto span = sdk.tracer->start_span("s", {.parent = not_sampled});
  EXPECT_FALSE(span->is_recording());
  EXPECT_TRUE(span->context().valid());
  EXPECT_EQ(span->context().trace_id(), not_sampled.trace_id());
  EXPECT_NE(span->context().span_id(), not_sampled.span_id());
  EXPECT_FALSE(span->context().sampled());
  span->end();
  EXPECT_EQ(sdk.exporter->size(), 0u);
}

// Record-only spans go through processors but the built-in ones never export them.
class RecordOnlySampler : public sdk::Sampler {
 public:
  sdk::SamplingResult should_sample(const SpanContext&, const TraceId&, std::string_view,
                                    SpanKind, const Attributes&,
                                    const std::vector<Link>&) const override {
    return {sdk::SamplingDecision::kRecordOnly, {{"sampler.attr", std::int64_t{1}}}, std::nullopt};
  }
  std::string description() const override { return "RecordOnly"; }
};

TEST(Span, SimpleProcessorExportsOnlySampled) {
  TestSdk sdk({.sampler = std::make_shared<RecordOnlySampler>()});
  auto span = sdk.tracer->start_span("s");
  EXPECT_TRUE(span->is_recording());
  EXPECT_FALSE(span->context().sampled());
  span->end();
  EXPECT_EQ(sdk.exporter->size(), 0u);
}

TEST(Span, UntracedContextGivesNonRecordingSpans) {
  TestSdk sdk;
  Scope scope(current_context().with_untraced());
  auto span = sdk.tracer->start_span("s");
  EXPECT_FALSE(span->is_recording());
  EXPECT_FALSE(span->context().sampled());
  EXPECT_TRUE(span->context().valid());
}

TEST(InSpan, MakesSpanCurrentAndEndsIt) {
  TestSdk sdk;
  SpanContext seen;
  int r = sdk.tracer->in_span("work", {.attributes = {{"k", std::int64_t{1}}}}, [&](Span& s) {
    seen = current_span()->context();
    EXPECT_EQ(seen, s.context());
    return 5;
  });
  EXPECT_EQ(r, 5);
  EXPECT_FALSE(current_span()->context().valid());
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].context, seen);
  sdk.tracer->in_span("noargs", [] {});
  EXPECT_EQ(sdk.exporter->size(), 2u);
}

TEST(InSpan, ExceptionRecordedStatusErrorRethrown) {
  TestSdk sdk;
  EXPECT_THROW(sdk.tracer->in_span("fail", [](Span&) { throw std::runtime_error("boom"); }),
               std::runtime_error);
  auto spans = sdk.exporter->finished_spans();
  ASSERT_EQ(spans.size(), 1u);  // ended
  const auto& s = spans[0];
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.status_description, "Unhandled exception of type: std::runtime_error");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "exception");
  ASSERT_GE(s.events[0].attributes.size(), 2u);
  EXPECT_EQ(s.events[0].attributes[0].key, "exception.type");
  EXPECT_EQ(std::get<std::string>(s.events[0].attributes[0].value), "std::runtime_error");
  EXPECT_EQ(std::get<std::string>(*find_attr(s.events[0].attributes, "exception.message")), "boom");
  EXPECT_FALSE(current_span()->context().valid());
}

struct CustomError {};

TEST(InSpan, NonStdExceptionStillRecorded) {
  TestSdk sdk;
  EXPECT_THROW(sdk.tracer->in_span("fail", [] { throw CustomError{}; }), CustomError);
  auto s = sdk.exporter->finished_spans().at(0);
  EXPECT_EQ(s.status_description, "Unhandled exception of type: kiq::otel::(anonymous namespace)::CustomError");
  ASSERT_EQ(s.events.size(), 1u);
}

TEST(RecordException, DemangledTypeAndExtraAttributes) {
  TestSdk sdk;
  auto span = sdk.tracer->start_span("s");
  span->record_exception(std::invalid_argument("bad arg"), {{"job.jid", "abc"}});
  span->end();
  auto spans = sdk.exporter->finished_spans();
  const auto& e = spans.at(0).events.at(0);
  EXPECT_EQ(std::get<std::string>(*find_attr(e.attributes, "exception.type")), "std::invalid_argument");
  EXPECT_EQ(std::get<std::string>(*find_attr(e.attributes, "job.jid")), "abc");
}

TEST(Provider, ShutdownGivesNoopTracers) {
  TestSdk sdk;
  auto before = sdk.tracer;
  EXPECT_TRUE(sdk.provider->shutdown());
  EXPECT_FALSE(sdk.provider->shutdown());  // once
  EXPECT_FALSE(sdk.provider->get_tracer("after")->start_span("s")->is_recording());
  EXPECT_FALSE(before->start_span("s")->is_recording());
}

TEST(Provider, TracersCachedByScope) {
  TestSdk sdk;
  EXPECT_EQ(sdk.provider->get_tracer("a", "1"), sdk.provider->get_tracer("a", "1"));
  EXPECT_NE(sdk.provider->get_tracer("a", "1"), sdk.provider->get_tracer("a", "2"));
}

TEST(Provider, UserResourceMergedOverDefault) {
  TestSdk sdk({.resource = std::make_shared<const sdk::Resource>(
                   Attributes{{"service.name", std::string("kiq-test")}})});
  EXPECT_EQ(std::get<std::string>(*sdk.provider->resource().find("service.name")), "kiq-test");
  EXPECT_EQ(std::get<std::string>(*sdk.provider->resource().find("telemetry.sdk.name")),
            "opentelemetry");
}

}  // namespace
}  // namespace kiq::otel

namespace kiq::otel {
namespace {

// Prints what it exports, so a death test can see spans flushed during process exit.
class StderrExporter : public sdk::SpanExporter {
 public:
  sdk::ExportResult export_spans(std::span<const sdk::SpanData> batch) override {
    for (const auto& s : batch) std::fprintf(stderr, "exported %s\n", s.name.c_str());
    return sdk::ExportResult::kSuccess;
  }
  bool shutdown(std::chrono::milliseconds) override { return true; }
};

TEST(GlobalProviderDeathTest, BatchFlushedWhenProcessExits) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto bsp = std::make_shared<sdk::BatchSpanProcessor>(
            std::make_shared<StderrExporter>(),
            sdk::BatchSpanProcessorOptions{.schedule_delay = std::chrono::hours(1)});
        set_tracer_provider(
            std::make_shared<sdk::TracerProvider>(sdk::TracerProviderOptions{.processors = {bsp}}));
        bsp.reset();
        get_tracer("exit")->start_span("last-words")->end();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "exported last-words");
}

// A static object's destructor runs after the main thread's thread_locals are destroyed (e.g. a
// test fixture restoring the previous provider at exit, as a static TracingHarness does): the
// global provider and propagator, the current context and scopes must still work there (under
// ASan, touching the thread's destroyed copies is a use-after-free).
TEST(GlobalProviderDeathTest, StaticDestructorsUseTheGlobalsAfterThreadLocalsAreGone) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        struct Restorer {
          std::shared_ptr<TracerProvider> previous = tracer_provider();
          ~Restorer() {
            SpanPtr span = get_tracer("exit")->start_span("in-static-destructor");
            {
              Scope scope(span);
              (void)current_span();
            }
            span->end();
            set_tracer_provider(previous);
            set_global_propagator(make_propagator("tracecontext"));
            if (tracer_provider() == previous && global_propagator())
              std::fprintf(stderr, "restored\n");
          }
        };
        static Restorer restorer;
        auto exporter = std::make_shared<StderrExporter>();
        set_tracer_provider(std::make_shared<sdk::TracerProvider>(sdk::TracerProviderOptions{
            .processors = {std::make_shared<sdk::SimpleSpanProcessor>(exporter)}}));
        (void)get_tracer("exit");  // this thread's copies of the globals exist, then are destroyed
        (void)global_propagator();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "exported in-static-destructor\nrestored");
}

}  // namespace
}  // namespace kiq::otel
