// OTLP interop: spans made through kiq's real SDK are exported with protobuf and with JSON to a
// local receiver; the captured bodies are decoded by decode.mjs with the official OpenTelemetry
// definitions from npm and compared with what the SDK recorded (expected.json, written here).
//
// Skips only when node or tests/interop/node/node_modules is missing AND KIQ_REQUIRE_INTEROP is
// unset; with KIQ_REQUIRE_INTEROP=1 a missing toolchain is a failure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "kiq/otel/sdk/exporters/in_memory.hpp"
#include "kiq/otel/sdk/exporters/otlp_http.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "kiq/otel/sdk/tracer_provider.hpp"
#include "support/child_process.hpp"
#include "unit/otlp/otlp_receiver.hpp"

namespace kiq::otel::sdk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

fs::path source_dir() {
  const char* dir = std::getenv("KIQ_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::path(KIQ_SOURCE_DIR_FALLBACK);
}

fs::path output_dir() {
  const char* dir = std::getenv("KIQ_BINARY_DIR");
  fs::path out = fs::path(dir ? dir : fs::temp_directory_path().string()) / "otlp-interop";
  fs::create_directories(out);
  return out;
}

bool interop_required() {
  const char* v = std::getenv("KIQ_REQUIRE_INTEROP");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// --- canonical form (mirrors canonical() in decode.mjs) ----------------------------------------
std::string hex_of(const SpanId& id) { return id.valid() ? id.to_hex() : ""; }

json value_json(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        auto scalar = [](const auto& x) -> json {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<X, bool>) return {{"type", "bool"}, {"value", x}};
          else if constexpr (std::is_same_v<X, std::int64_t>)
            return {{"type", "int"}, {"value", std::to_string(x)}};
          else if constexpr (std::is_same_v<X, double>) return {{"type", "double"}, {"value", x}};
          else return {{"type", "string"}, {"value", x}};
        };
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> ||
                      std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
          return scalar(v);
        } else {
          json items = json::array();
          for (const auto& item : v) items.push_back(scalar(static_cast<typename T::value_type>(item)));
          return {{"type", "array"}, {"value", items}};
        }
      },
      value);
}

json attributes_json(const Attributes& attributes) {
  json out = json::array();
  for (const auto& a : attributes) out.push_back({{"key", a.key}, {"value", value_json(a.value)}});
  return out;
}

std::uint32_t flags_of(const SpanContext& ctx, bool remote) {
  return ctx.trace_flags().value() | 0x100u | (remote ? 0x200u : 0u);
}

json span_json(const SpanData& s) {
  json events = json::array();
  for (const auto& e : s.events) {
    events.push_back({{"name", e.name},
                      {"time", std::to_string(e.time_unix_nano)},
                      {"attributes", attributes_json(e.attributes)}});
  }
  json links = json::array();
  for (const auto& l : s.links) {
    links.push_back({{"traceId", l.context.trace_id().to_hex()},
                     {"spanId", l.context.span_id().to_hex()},
                     {"traceState", l.context.trace_state().to_header()},
                     {"attributes", attributes_json(l.attributes)},
                     {"flags", flags_of(l.context, l.context.is_remote())}});
  }
  return {{"traceId", s.context.trace_id().to_hex()},
          {"spanId", s.context.span_id().to_hex()},
          {"parentSpanId", hex_of(s.parent_span_id)},
          {"traceState", s.context.trace_state().to_header()},
          {"name", s.name},
          {"kind", static_cast<int>(s.kind)},
          {"start", std::to_string(s.start_unix_nano)},
          {"end", std::to_string(s.end_unix_nano)},
          {"attributes", attributes_json(s.attributes)},
          {"droppedAttributesCount", s.dropped_attributes_count},
          {"events", events},
          {"links", links},
          {"status",
           {{"code", static_cast<int>(s.status_code)},
            {"message", s.status_code == StatusCode::kError ? s.status_description : ""}}},
          {"flags", flags_of(s.context, s.has_parent() && s.parent_is_remote)}};
}

// Grouped like the encoders: by resource object, then scope object, in first-seen order.
json canonical(const std::vector<SpanData>& spans) {
  json out = json::array();
  std::vector<const Resource*> resources;
  std::vector<std::vector<const InstrumentationScope*>> scopes;
  for (const auto& s : spans) {
    auto r = std::find(resources.begin(), resources.end(), s.resource.get()) - resources.begin();
    if (r == static_cast<long>(resources.size())) {
      resources.push_back(s.resource.get());
      scopes.emplace_back();
      out.push_back({{"resource", attributes_json(s.resource->attributes())}, {"scopes", json::array()}});
    }
    auto& scope_list = scopes[r];
    auto i = std::find(scope_list.begin(), scope_list.end(), s.scope.get()) - scope_list.begin();
    if (i == static_cast<long>(scope_list.size())) {
      scope_list.push_back(s.scope.get());
      out[r]["scopes"].push_back(
          {{"name", s.scope->name}, {"version", s.scope->version}, {"spans", json::array()}});
    }
    out[r]["scopes"][i]["spans"].push_back(span_json(s));
  }
  return out;
}

// --- the rich fixture ------------------------------------------------------------------------
std::vector<SpanData> make_spans() {
  auto memory = std::make_shared<InMemorySpanExporter>();
  TracerProviderOptions options;
  options.resource = std::make_shared<const Resource>(
      Resource::default_resource().merge(Resource(Attributes{
          {"service.name", std::string("kiq-interop")}, {"service.version", std::string("1.0.0")}})));
  options.processors.push_back(std::make_shared<SimpleSpanProcessor>(memory));
  TracerProvider provider(std::move(options));
  auto jobs = provider.get_tracer("kiq.interop.jobs", "1.2.3");
  auto client = provider.get_tracer("kiq.interop.client", "0.9.0");

  StartSpanOptions root_options;
  root_options.kind = SpanKind::kServer;
  root_options.attributes = {
      {"str", std::string("value")},
      {"flag", true},
      {"count", std::int64_t{-9007199254740993}},
      {"ratio", 3.25},
      {"strs", std::vector<std::string>{"a", "b", "c"}},
      {"flags", std::vector<bool>{true, false}},
      {"ints", std::vector<std::int64_t>{1, -2, 4611686018427387904}},
      {"doubles", std::vector<double>{0.5, -1.75}},
  };
  auto root = jobs->start_span("root", root_options);

  StartSpanOptions child_options;
  child_options.kind = SpanKind::kClient;
  child_options.parent = root->context();
  auto child = jobs->start_span("child", child_options);
  child->add_event("checkpoint", {{"step", std::int64_t{2}}, {"note", std::string("half way")}});
  child->set_status(StatusCode::kError, "Unhandled exception of type: std::runtime_error");
  child->record_exception(std::runtime_error("boom"));
  child->end();

  auto remote_state = TraceState::parse("vendor=abc,other=xyz");
  SpanContext remote(*TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                     *SpanId::from_hex("00f067aa0ba902b7"), TraceFlags(TraceFlags::kSampled), true,
                     remote_state.value_or(TraceState()));
  StartSpanOptions consumer_options;
  consumer_options.kind = SpanKind::kConsumer;
  consumer_options.parent = remote;
  consumer_options.links.push_back({root->context(), {{"link.reason", std::string("enqueued-by")},
                                                      {"link.count", std::int64_t{1}}}});
  consumer_options.links.push_back({remote, {}});
  auto consumer = client->start_span("default process", consumer_options);
  consumer->add_event("enqueued_at", {{"at", 1.5}});
  consumer->end();

  StartSpanOptions producer_options;
  producer_options.kind = SpanKind::kProducer;
  producer_options.parent = root->context();
  client->start_span("default publish", producer_options)->end();

  StartSpanOptions internal_options;
  internal_options.parent = root->context();
  jobs->start_span("internal step", internal_options)->end();

  root->set_status(StatusCode::kOk);
  root->end();
  provider.force_flush(10s);
  return memory->finished_spans();
}

std::string write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path.string();
}

std::string capture_body(const std::vector<SpanData>& spans, OtlpProtocol protocol) {
  testing::OtlpReceiver receiver;
  OtlpHttpExporterOptions options;
  options.endpoint = receiver.url();
  options.protocol = protocol;
  options.timeout = 20s;
  OtlpHttpExporter exporter(options);
  EXPECT_EQ(exporter.export_spans(spans), ExportResult::kSuccess);
  auto requests = receiver.requests();
  EXPECT_EQ(requests.size(), 1u);
  return requests.empty() ? std::string() : requests[0].body;
}

TEST(OtlpInterop, OfficialDefinitionsDecodeWhatKiqSends) {
  fs::path src = source_dir();
  fs::path script = src / "tests/interop/otlp/decode.mjs";
  fs::path modules = src / "tests/interop/node/node_modules/@opentelemetry/otlp-transformer";
  bool have_node = std::system("node --version >/dev/null 2>&1") == 0;
  if (!have_node || !fs::exists(modules)) {
    if (interop_required()) FAIL() << "node or " << modules << " missing (KIQ_REQUIRE_INTEROP set)";
    GTEST_SKIP() << "node or npm modules missing; run scripts/setup";
  }

  std::vector<SpanData> spans = make_spans();
  ASSERT_EQ(spans.size(), 5u);
  // The SDK did what the fixture asks (the node side then checks the wire matches this).
  const SpanData* child = nullptr;
  const SpanData* root = nullptr;
  const SpanData* consumer = nullptr;
  for (const auto& s : spans) {
    if (s.name == "child") child = &s;
    if (s.name == "root") root = &s;
    if (s.name == "default process") consumer = &s;
  }
  ASSERT_TRUE(child && root && consumer);
  EXPECT_EQ(child->parent_span_id, root->context.span_id());
  EXPECT_FALSE(child->parent_is_remote);
  EXPECT_TRUE(consumer->parent_is_remote);
  EXPECT_EQ(consumer->context.trace_id().to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");

  fs::path out = output_dir();
  std::string expected = write_file(out / "expected.json", canonical(spans).dump(2));
  std::string pb = write_file(out / "request.pb", capture_body(spans, OtlpProtocol::kHttpProtobuf));
  std::string js = write_file(out / "request.json", capture_body(spans, OtlpProtocol::kHttpJson));

  testing::ChildOptions child_options;
  child_options.stdout_path = (out / "decode.log").string();
  child_options.stderr_path = child_options.stdout_path;
  auto node = testing::ChildProcess::spawn("node", {script.string(), pb, js, expected}, child_options);
  auto status = node.wait_for(120s);
  ASSERT_TRUE(status) << "decode.mjs did not finish";
  std::string log = testing::read_file(child_options.stdout_path);
  EXPECT_TRUE(status->success()) << status->describe() << "\n" << log;
  std::cout << log;
}

}  // namespace
}  // namespace kiq::otel::sdk
