// `kiq enqueue CLASS ARGS_JSON`: pushes one job (or --count copies with push_bulk) and prints
// the jid(s), one per line. With tracing configured by the OTEL_* environment, each job gets a
// PRODUCER span and carries its trace context (see setup_client_tracing).
#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/tracing_setup.hpp"
#include "kiq/kiq.hpp"

namespace kiq::cli {
namespace {

struct EnqueueFlags {
  std::string job_class;
  std::string args_json;
  std::string queue;
  std::optional<double> in;
  std::optional<double> at;
  std::size_t count = 1;
  std::string retry;
  std::string redis;
};

Json parse_args(const std::string& text) {
  Json args = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) {
    throw UsageError(fmt::format("ARGS_JSON is not valid JSON: '{}' (expected an array, e.g. '[1, \"x\"]')", text));
  }
  if (!args.is_array()) {
    throw UsageError(fmt::format("ARGS_JSON must be a JSON array, got {} (e.g. '[{}]')", args.type_name(), text));
  }
  return args;
}

RetryOption parse_retry(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  int count = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc() || end != text.data() + text.size() || count < 0) {
    throw UsageError(fmt::format("--retry must be true, false or a count >= 0, got '{}'", text));
  }
  return count;
}

// The options pushed jobs get: the registered type's (if any) with the command's overrides.
// push_bulk takes its per-type options from a registry, so overrides go through a one-entry
// registry built here.
JobOptions job_options(const Env& env, const EnqueueFlags& f) {
  const JobType* type = env.jobs.find(f.job_class);
  JobOptions options = type != nullptr ? type->options : JobOptions{};
  if (!f.queue.empty()) options.queue = f.queue;
  if (!f.retry.empty()) options.retry = parse_retry(f.retry);
  return options;
}

int run_enqueue(Env& env, const EnqueueFlags& f) {
  if (f.job_class.empty()) throw UsageError("CLASS must not be empty");
  Json args = parse_args(f.args_json);
  JobOptions options = job_options(env, f);
  std::shared_ptr<Store> store = open_shared_store(env, f.redis);

  JobRegistry registry;  // carries `options` for this class only (perform is never called here)
  registry.add(f.job_class, [](JobContext&, const Json&) {}, options);
  // With OTEL_* tracing configured: a PRODUCER span per job (push_bulk then runs the client
  // middleware per job, as Ruby's does); the guard exports the spans when this returns.
  // Without: no middleware, and push_bulk's fast path.
  ClientTracing tracing = setup_client_tracing();
  Client client(store, std::move(tracing.chain), &registry);

  std::optional<double> at;
  if (f.in) at = epoch_now() + *f.in;
  if (f.at) at = *f.at;
  if (f.count == 1) {
    PushOptions push;
    push.at = at;
    std::optional<std::string> jid = client.set(std::move(push)).perform_async(f.job_class, args);
    if (!jid) throw std::runtime_error("the job was not pushed (stopped by client middleware)");
    env.out << *jid << '\n';
    return kExitOk;
  }
  // Pushed in rounds, so the jids held at once stay bounded whatever --count says (and traced
  // rounds are flushed before the batch queue can overflow); printed in 64 KB pieces: one line
  // per jid without one stream call per line.
  constexpr std::size_t kMaxRound = 100000;
  std::string lines;
  const std::size_t step = tracing.flush_every > 0 ? tracing.flush_every : kMaxRound;
  for (std::size_t done = 0; done < f.count; done += step) {
    const std::size_t n = std::min(step, f.count - done);
    for (const std::string& jid : client.push_bulk_copies(f.job_class, args, n, at)) {
      lines.append(jid).push_back('\n');
      if (lines.size() >= 65536) {
        env.out << lines;
        lines.clear();
      }
    }
    if (tracing.flush_every > 0) tracing.guard.force_flush();  // exported, not dropped
  }
  env.out << lines;
  return kExitOk;
}

}  // namespace

void install_enqueue(CLI::App& app, Env& env, Dispatch& dispatch) {
  auto flags = std::make_shared<EnqueueFlags>();
  CLI::App* cmd = app.add_subcommand("enqueue", "Pushes a job (Sidekiq::Client.push) and prints its jid");
  cmd->add_option("CLASS", flags->job_class, "Job class name, e.g. MarkJob")->required();
  cmd->add_option("ARGS_JSON", flags->args_json, "Job arguments as a JSON array, e.g. '[\"s\", 1]'")
      ->required();
  cmd->add_option("--queue", flags->queue, "Queue (default: the class's queue, else default)");
  auto* in = cmd->add_option("--in", flags->in, "Run this many seconds from now")
                 ->check(seconds_in(0));
  cmd->add_option("--at", flags->at, "Run at this epoch time (seconds)")
      ->check(seconds_in(0))->excludes(in);
  cmd->add_option("--count", flags->count, "Push this many copies (push_bulk, 1000 per round trip)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--retry", flags->retry, "true, false or a retry count (default: the class's, else true)");
  add_redis_option(*cmd, flags->redis);
  cmd->callback([flags, &env, &dispatch] {
    dispatch.runner = [flags, &env] { return run_enqueue(env, *flags); };
  });
}

}  // namespace kiq::cli
