// Fuzzes the server's handling of one raw queue entry: the bytes are pushed to a queue of the
// embedded store, fetched by reliable fetch and handed to the processor (process_job), as a
// running server does. Whatever the bytes, the entry must end acknowledged (not left in
// progress) and never vanish: an entry that is not a runnable job hash must be in the dead set
// with error_class "kiq::InvalidJob" and an error_message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kiq/server.hpp"
#include "kiq/store/memory.hpp"
#include "server/state.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// The contract the processor must enforce (a second, independent statement of it).
bool runnable(const kiq::Json& job) {
  if (!job.is_object()) return false;
  auto cls = job.find("class");
  if (cls == job.end() || !cls->is_string() || cls->get<std::string>().empty()) return false;
  auto args = job.find("args");
  if (args == job.end() || !args->is_array()) return false;
  auto jid = job.find("jid");
  return jid == job.end() || jid->is_string();
}

struct Fixture {
  Fixture() : store(std::make_shared<kiq::MemoryStore>()) {
    kiq::JobRegistry jobs;
    jobs.add("NoopJob", [](kiq::JobContext&, const kiq::Json&) {});
    jobs.add("FailingJob", [](kiq::JobContext&, const kiq::Json&) { throw std::runtime_error("fuzz"); });
    kiq::ServerOptions options;
    options.identity = "fuzz:1:000000000000";
    options.logger = kiq::make_null_logger();
    options.log_jobs = false;
    state = std::make_unique<kiq::server::State>(std::move(options), std::move(jobs), store);
  }
  std::shared_ptr<kiq::MemoryStore> store;
  std::unique_ptr<kiq::server::State> state;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  kiq::Store& store = *f.store;
  store.clear(kiq::SortedSetName::kDead);
  store.clear(kiq::SortedSetName::kRetry);
  store.clear_queue("default");

  std::string raw(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> payloads = {raw};
  store.push("default", payloads);
  std::vector<std::string> queues = {"default"};
  auto fetched = store.fetch(f.state->identity, queues, 1, std::chrono::milliseconds(0));
  check(fetched.size() == 1 && fetched[0].payload == raw);

  kiq::server::process_job(*f.state, *f.state->slots.front(), fetched[0]);  // worker 1

  check(store.in_progress(f.state->identity).empty());  // acknowledged, whatever happened
  kiq::Json parsed = kiq::Json::parse(raw, nullptr, false);
  std::int64_t dead = store.size(kiq::SortedSetName::kDead);
  std::int64_t retry = store.size(kiq::SortedSetName::kRetry);
  check(dead + retry <= 1);
  if (parsed.is_discarded() || !runnable(parsed)) {
    check(dead == 1);
    kiq::Json entry = kiq::Json::parse(store.range(kiq::SortedSetName::kDead, 0, 1)[0].payload, nullptr, false);
    check(entry.is_object());
    check(entry.value("error_class", "") == "kiq::InvalidJob");
    check(!entry.value("error_message", "").empty());
    check(entry["jid"].is_string());
  }
  return 0;
}
