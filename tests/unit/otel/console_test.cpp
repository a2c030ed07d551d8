#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "kiq/otel/sdk/exporters/console.hpp"
#include "test_util.hpp"

namespace kiq::otel::sdk {
namespace {

TEST(Console, OneLinePerSpan) {
  std::ostringstream out;
  auto exporter = std::make_shared<ConsoleSpanExporter>(&out);
  TracerProvider provider({.processors = {std::make_shared<SimpleSpanProcessor>(exporter)}});
  auto tracer = provider.get_tracer("t");
  tracer->in_span("outer", {.kind = SpanKind::kProducer}, [&](Span& s) {
    s.set_attribute("messaging.system", "sidekiq");
    tracer->in_span("inner", [] {});
  });
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_NE(text.find("span \"outer\""), std::string::npos);
  EXPECT_NE(text.find("kind=producer"), std::string::npos);
  EXPECT_NE(text.find("messaging.system=\"sidekiq\""), std::string::npos);
}

TEST(Console, TreeIndentsChildrenPerTrace) {
  testing::TestSdk sdk;
  sdk.tracer->in_span("parent", [&] {
    sdk.tracer->in_span("child", [&](Span& s) {
      s.add_event("created_at");
      s.set_attribute("n", 1);
    });
  });
  try {
    sdk.tracer->in_span("other", [] { throw std::runtime_error("boom"); });
  } catch (const std::exception&) {
  }
  auto spans = sdk.exporter->finished_spans();
  std::string tree = render_trace_tree(spans);
  auto parent = tree.find("\n  parent [internal]");
  auto child = tree.find("\n    child [internal]");
  EXPECT_NE(parent, std::string::npos) << tree;
  EXPECT_NE(child, std::string::npos) << tree;
  EXPECT_LT(parent, child);
  EXPECT_NE(tree.find("* created_at"), std::string::npos) << tree;
  EXPECT_NE(tree.find("status=error(\"Unhandled exception of type: std::runtime_error\")"),
            std::string::npos) << tree;
  EXPECT_EQ(std::count(tree.begin(), tree.end(), 't') > 0, true);
  std::size_t traces = 0;
  for (std::size_t p = tree.find("trace "); p != std::string::npos; p = tree.find("trace ", p + 1)) {
    if (p == 0 || tree[p - 1] == '\n') ++traces;
  }
  EXPECT_EQ(traces, 2u);
}

TEST(Console, AttributeValueText) {
  EXPECT_EQ(attribute_value_to_string(AttributeValue(std::int64_t{3})), "3");
  EXPECT_EQ(attribute_value_to_string(AttributeValue(std::string("x"))), "\"x\"");
  EXPECT_EQ(attribute_value_to_string(AttributeValue(std::vector<bool>{true, false})),
            "[true, false]");
  EXPECT_EQ(attribute_value_to_string(AttributeValue(std::vector<std::string>{"a"})), "[\"a\"]");
}

}  // namespace
}  // namespace kiq::otel::sdk
