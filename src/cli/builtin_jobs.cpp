// kiq's load-testing jobs (the `kiq` binary registers them; tests and the demo reuse them).
// Their Ruby twins live in tests/interop/sidekiq/jobs.rb, so either side can run them.
#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "kiq/cli.hpp"
#include "kiq/store.hpp"

namespace kiq::cli {
namespace {

// Set members are strings: strings are used as they are, anything else as its JSON text
// (so Ruby's `sadd("s", 7)` and kiq agree on "7").
std::string as_member(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void noop(JobContext&, const Json&) {}

void failing(JobContext&, const Json& args) {
  if (!args.empty() && args[0].is_string()) throw std::runtime_error(args[0].get<std::string>());
  throw std::runtime_error(args.empty() ? "FailingJob failed" : args[0].dump());
}

void sleep_ms(JobContext&, const Json& args) {
  if (args.empty() || !args[0].is_number() || args[0].get<double>() < 0) {
    throw std::invalid_argument("SleepJob expects args[0] = milliseconds (a number >= 0)");
  }
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(args[0].get<double>()));
}

void mark(JobContext& ctx, const Json& args) {
  if (args.size() < 2 || !args[0].is_string()) {
    throw std::invalid_argument(fmt::format(
        "MarkJob expects args [set_name, member], got {}", args.dump()));
  }
  // Optional args[2]: a counter key incremented on every execution, before the mark, so the
  // chaos tests can count re-runs after crashes (runs - set size = duplicates, never fewer).
  if (args.size() >= 3 && args[2].is_string()) ctx.kv().incr(args[2].get<std::string>());
  ctx.kv().sadd(args[0].get<std::string>(), as_member(args[1]));
}

}  // namespace

void register_builtin_jobs(JobRegistry& jobs) {
  jobs.add("NoopJob", noop);
  jobs.add("FailingJob", failing);
  jobs.add("SleepJob", sleep_ms);
  jobs.add("MarkJob", mark);
}

}  // namespace kiq::cli
