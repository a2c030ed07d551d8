// The `kiq` binary loads its OTLP exporter from libkiq_otlp.so only when asked to export:
//  * a server that does not export never maps the module, libprotobuf or libcurl;
//  * with OTEL_EXPORTER_OTLP_ENDPOINT the module is loaded and `kiq demo` really exports;
//  * a missing module (KIQ_OTLP_MODULE pointing nowhere) is a clear error, not a crash.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "unit/otlp/otlp_receiver.hpp"

namespace kiq {
namespace {

using namespace std::chrono_literals;
using testing::ChildOptions;
using testing::ChildProcess;

std::string kiq_binary() {
  const char* dir = std::getenv("KIQ_BINARY_DIR");
  return std::string(dir ? dir : KIQ_TEST_BINARY_DIR) + "/kiq";
}

std::string maps_of(pid_t pid) { return testing::read_file("/proc/" + std::to_string(pid) + "/maps"); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Waits (bounded only against hangs) until `done` holds.
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout = 60s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The server's own start line (Server::start, after tracing setup): from then on SIGTERM takes
// the normal stop path.
bool started(const std::string& log) { return contains(log, "starting: identity="); }

// No OTEL_* variable: tracing is not requested, so nothing of the exporter may be mapped.
ChildOptions quiet_env(const std::string& log) {
  ChildOptions options;
  options.unset_env = {"REDIS_URL", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                       "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "KIQ_OTLP_MODULE", "OTEL_SDK_DISABLED"};
  options.stdout_path = log;
  options.stderr_path = log;
  return options;
}

TEST(OtlpModule, AServerThatDoesNotExportMapsNeitherTheModuleNorProtobufNorCurl) {
  testing::TempDir dir{"kiq-otlp-module"};
  std::string log = dir.file("server.log");
  // Embedded store (no Redis URL): the server runs on its own.
  ChildProcess server = ChildProcess::spawn(kiq_binary(), {"server", "-c", "2"}, quiet_env(log));
  // Started = its log says so; by then tracing setup (which would load the module) is done.
  ASSERT_TRUE(eventually([&] { return started(testing::read_file(log)) || !server.running(); }))
      << testing::read_file(log);
  ASSERT_TRUE(server.running()) << testing::read_file(log);
  std::string maps = maps_of(server.pid());
  ASSERT_TRUE(contains(maps, "libstdc++")) << maps;  // the maps were really read
  EXPECT_FALSE(contains(maps, "libkiq_otlp")) << maps;
  EXPECT_FALSE(contains(maps, "libprotobuf")) << maps;
  EXPECT_FALSE(contains(maps, "libcurl")) << maps;
  EXPECT_TRUE(server.terminate().success()) << testing::read_file(log);
}

TEST(OtlpModule, AServerAskedToExportLoadsTheModule) {
  testing::OtlpReceiver receiver;
  testing::TempDir dir{"kiq-otlp-module"};
  std::string log = dir.file("server.log");
  ChildOptions options = quiet_env(log);
  options.env = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + std::to_string(receiver.port())};
  ChildProcess server = ChildProcess::spawn(kiq_binary(), {"server", "-c", "2"}, options);
  ASSERT_TRUE(eventually([&] { return started(testing::read_file(log)) || !server.running(); }))
      << testing::read_file(log);
  ASSERT_TRUE(server.running()) << testing::read_file(log);
  std::string maps = maps_of(server.pid());
  EXPECT_TRUE(contains(maps, "libkiq_otlp.so")) << maps;
  EXPECT_TRUE(contains(maps, "libprotobuf")) << maps;
  EXPECT_TRUE(server.terminate().success()) << testing::read_file(log);
}

TEST(OtlpModule, TheDemoExportsThroughTheModule) {
  testing::OtlpReceiver receiver;
  testing::TempDir dir{"kiq-otlp-module"};
  std::string log = dir.file("demo.log");
  ChildOptions options = quiet_env(log);
  options.stderr_path = dir.file("demo.err");
  options.env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + receiver.url(),
                 "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf"};
  ChildProcess demo = ChildProcess::spawn(kiq_binary(), {"demo", "--no-color"}, options);
  auto status = demo.wait_for(120s);
  ASSERT_TRUE(status) << "kiq demo did not finish";
  ASSERT_TRUE(status->success()) << status->describe() << "\n"
                                 << testing::read_file(dir.file("demo.err"));
  auto requests = receiver.requests();
  ASSERT_FALSE(requests.empty()) << testing::read_file(log);
  std::size_t spans = 0;
  for (const auto& request : requests) {
    std::string error;
    auto decoded = otel::sdk::decode_otlp_protobuf(request.body, &error);
    ASSERT_TRUE(decoded) << error;
    spans += decoded->size();
    for (const auto& span : *decoded) {
      const otel::AttributeValue* name = span.resource ? span.resource->find("service.name") : nullptr;
      ASSERT_NE(name, nullptr);
      EXPECT_EQ(*name, otel::AttributeValue("kiq-demo"));
    }
  }
  EXPECT_GT(spans, 10u);
}

TEST(OtlpModule, AMissingModuleIsAClearError) {
  testing::OtlpReceiver receiver;
  testing::TempDir dir{"kiq-otlp-module"};
  std::string log = dir.file("demo.log");
  ChildOptions options = quiet_env(log);
  options.env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + receiver.url(),
                 "KIQ_OTLP_MODULE=" + dir.file("nowhere/libkiq_otlp.so")};
  ChildProcess server = ChildProcess::spawn(kiq_binary(), {"server", "-c", "2"}, options);
  auto status = server.wait_for(60s);
  ASSERT_TRUE(status) << "kiq server kept running without its exporter";
  EXPECT_TRUE(status->exited) << status->describe();
  EXPECT_EQ(status->code, 1);
  std::string out = testing::read_file(log);
  EXPECT_TRUE(contains(out, "kiq: error: OTLP export needs the OTLP/HTTP exporter module libkiq_otlp.so"))
      << out;
  EXPECT_TRUE(contains(out, dir.file("nowhere/libkiq_otlp.so"))) << out;
  EXPECT_TRUE(contains(out, "KIQ_OTLP_MODULE")) << out;
  EXPECT_EQ(receiver.request_count(), 0u);
}

// An application that links the `kiq` CMake target (README "own main") exports with the
// exporter linked into it: it works without the module and never loads it.
TEST(OtlpModule, AnOwnMainLinkingKiqHasTheExporterBuiltIn) {
  testing::OtlpReceiver receiver;
  testing::TempDir dir{"kiq-otlp-module"};
  std::string log = dir.file("server.log");
  ChildOptions options = quiet_env(log);
  options.env = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + std::to_string(receiver.port()),
                 "KIQ_OTLP_MODULE=" + dir.file("nowhere/libkiq_otlp.so")};
  ChildProcess server = ChildProcess::spawn(KIQ_OWN_MAIN_EXAMPLE, {"server", "-c", "2"}, options);
  ASSERT_TRUE(eventually([&] { return started(testing::read_file(log)) || !server.running(); }))
      << testing::read_file(log);
  ASSERT_TRUE(server.running()) << testing::read_file(log);
  std::string maps = maps_of(server.pid());
  EXPECT_TRUE(contains(maps, "libcurl")) << maps;
  EXPECT_FALSE(contains(maps, "libkiq_otlp")) << maps;
  EXPECT_TRUE(server.terminate().success()) << testing::read_file(log);
}

}  // namespace
}  // namespace kiq
