// The `kiq` command line, as a library: an application registers its job types and hands over
// to kiq::cli::main from its own main, so its binary has every subcommand (server, enqueue,
// stats, queues, retries, scheduled, dead, processes, quiet, stop, plus any extra ones):
//
//   int main(int argc, char** argv) {
//     kiq::JobRegistry jobs;
//     jobs.add("HardJob", [](kiq::JobContext& ctx, const kiq::Json& args) { ... });
//     return kiq::cli::main(argc, argv, jobs);
//   }
//
// Exit codes scripts can rely on: 0 ok, 1 runtime failure (e.g. Redis unreachable; one clear
// line on stderr), 2 usage error (bad flags, ARGS_JSON that is not a JSON array, ...).
//
// Adding a subcommand (how `kiq demo` and `kiq web` plug in): pass a Command whose setup adds
// the subcommand's options to the CLI11 app it is given and returns what to run:
//
//   kiq::cli::Command demo{"demo", "Runs the tutorial scenarios",
//     [](CLI::App& cmd, kiq::cli::Env& env) {
//       auto port = std::make_shared<int>(8080);
//       cmd.add_option("--port", *port, "HTTP port");
//       return [port, &env] { return run_demo(env.jobs, *port); };  // an exit code
//     }};
//   return kiq::cli::main(argc, argv, jobs, {demo});
//
// Thread-safety: main/run are meant to be called once, from the main thread (the server
// subcommand blocks SIGTERM/SIGINT/SIGTSTP in the calling thread and its children).
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiq/job.hpp"
#include "kiq/store.hpp"

namespace CLI {
class App;
}

namespace kiq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Thrown by commands for bad input on the command line (exit code 2); anything else derived
// from std::exception that escapes a command is a runtime failure (exit code 1).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What every command can reach. Thread-safety: used by the command's thread only.
struct Env {
  JobRegistry& jobs;
  std::ostream& out;  // results (jids, tables, JSON)
  std::ostream& err;  // notes and errors
};

// Where a command's store comes from: --redis URL, else $REDIS_URL, else the embedded store.
// Thread-safety: value type.
struct StoreChoice {
  std::string url;     // "" = the embedded (in-process memory) store
  std::string source;  // "--redis", "REDIS_URL" or "embedded"
  bool embedded() const { return url.empty(); }
  // "redis://127.0.0.1:6379/0 (from REDIS_URL)" or "embedded memory store (...)".
  std::string describe() const;
};
StoreChoice resolve_store(const std::string& redis_flag);
// Opens the chosen store. Throws UsageError for a malformed URL and StoreError when Redis
// cannot be reached (checked with a PING, so the error is immediate and clear).
std::shared_ptr<Store> open_store(const StoreChoice& choice);
// Adds `--redis URL` to a subcommand (for extra subcommands that need a store).
void add_redis_option(CLI::App& cmd, std::string& url);

// An extra subcommand. `setup` is called while the CLI is being built: it adds options to
// `cmd` (already named and described) and returns the function to run when the subcommand is
// chosen, which returns an exit code. Values parsed by CLI11 must outlive setup (capture
// shared_ptrs, as in the example above).
using Runner = std::function<int()>;
struct Command {
  std::string name;
  std::string description;
  std::function<Runner(CLI::App& cmd, Env& env)> setup;
};

// The whole CLI. Prints to stdout/stderr; returns the exit code.
int main(int argc, char** argv, JobRegistry& jobs, std::vector<Command> extra = {});
// Same, with explicit arguments (excluding the program name) and streams (for tests).
int run(const std::vector<std::string>& args, JobRegistry& jobs, std::ostream& out,
        std::ostream& err, std::vector<Command> extra = {});

// kiq's load-testing jobs, under exactly these class names:
//   NoopJob     does nothing (any args)
//   FailingJob  throws std::runtime_error whose message is args[0]
//   SleepJob    sleeps args[0] milliseconds
//   MarkJob     adds args[1] to the set named args[0] (store KeyValue::sadd: a Redis set on Redis)
//               and, if args[2] is given, first increments the counter key args[2] (re-runs)
void register_builtin_jobs(JobRegistry& jobs);

}  // namespace kiq::cli
