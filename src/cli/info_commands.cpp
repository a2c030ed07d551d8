// `kiq stats`, `kiq queues`, `kiq processes`, `kiq quiet ID`, `kiq stop ID`: what Sidekiq's
// Stats / Queue / ProcessSet APIs show, read from the store; quiet/stop push TSTP/TERM to the
// process's signal list as the Web UI's buttons do.
#include <ctime>
#include <set>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/commands.hpp"
#include "kiq/kiq.hpp"

namespace kiq::cli {
namespace {

struct InfoFlags {
  std::string redis;
  bool json = false;
  std::vector<std::string> identities;
  bool all = false;
};

int run_stats(Env& env, const InfoFlags& f) {
  auto store = open_shared_store(env, f.redis);
  StoreStats s = store->stats(epoch_now());
  if (f.json) {
    Json j{{"processed", s.processed}, {"failed", s.failed},   {"enqueued", s.enqueued},
           {"busy", s.busy},           {"scheduled", s.scheduled_size},
           {"retries", s.retry_size},  {"dead", s.dead_size},  {"processes", s.processes_size}};
    env.out << j.dump() << '\n';
    return kExitOk;
  }
  fmt::print(env.out,
             "processed: {}\nfailed:    {}\nenqueued:  {}\nbusy:      {}\nscheduled: {}\n"
             "retries:   {}\ndead:      {}\nprocesses: {}\n",
             s.processed, s.failed, s.enqueued, s.busy, s.scheduled_size, s.retry_size,
             s.dead_size, s.processes_size);
  return kExitOk;
}

int run_queues(Env& env, const InfoFlags& f) {
  auto store = open_shared_store(env, f.redis);
  std::vector<QueueSummary> queues = store->queues(epoch_now());
  if (f.json) {
    Json j = Json::array();
    for (const QueueSummary& q : queues) {
      j.push_back({{"name", q.name}, {"size", q.size}, {"latency", q.latency_seconds}});
    }
    env.out << j.dump() << '\n';
    return kExitOk;
  }
  fmt::print(env.out, "{:<24} {:>10} {:>12}\n", "QUEUE", "SIZE", "LATENCY(s)");
  for (const QueueSummary& q : queues) {
    fmt::print(env.out, "{:<24} {:>10} {:>12.3f}\n", q.name, q.size, q.latency_seconds);
  }
  return kExitOk;
}

Json process_json(const ProcessRecord& p) {
  Json info = Json::parse(p.info_json, nullptr, false);
  if (!info.is_object()) info = Json::object();
  info["identity"] = p.identity;
  info["busy"] = p.busy;
  info["beat"] = p.beat;
  info["quiet"] = p.quiet;
  info["rss_kb"] = p.rss_kb;
  info["rtt_us"] = p.rtt_us;
  return info;
}

std::string joined(const Json& array) {
  std::string out;
  if (!array.is_array()) return out;
  for (const Json& item : array) {
    if (!out.empty()) out += ',';
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

int run_processes(Env& env, const InfoFlags& f) {
  auto store = open_shared_store(env, f.redis);
  Json all = Json::array();
  for (const ProcessRecord& p : store->processes()) all.push_back(process_json(p));
  if (f.json) {
    env.out << all.dump() << '\n';
    return kExitOk;
  }
  fmt::print(env.out, "{:<40} {:>9} {:>9} {:<20} {:<8} {}\n", "IDENTITY", "BUSY", "RSS(MB)",
             "QUEUES", "STATE", "STARTED");
  for (const Json& p : all) {
    fmt::print(env.out, "{:<40} {:>4}/{:<4} {:>9.1f} {:<20} {:<8} {}\n", p["identity"].get<std::string>(),
               p["busy"].get<std::int64_t>(), p.value("concurrency", 0),
               p["rss_kb"].get<std::int64_t>() / 1024.0, joined(p.value("queues", Json::array())),
               p["quiet"].get<bool>() ? "quiet" : "running",
               format_time(p.value("started_at", 0.0)));
  }
  return kExitOk;
}

int run_signal(Env& env, const InfoFlags& f, std::string_view signal) {
  if (f.identities.empty() && !f.all) throw UsageError("give a process identity (see `kiq processes`) or --all");
  auto store = open_shared_store(env, f.redis);
  std::set<std::string> registered;
  for (const ProcessRecord& p : store->processes()) registered.insert(p.identity);
  std::vector<std::string> targets = f.identities;
  if (f.all) targets.assign(registered.begin(), registered.end());
  int code = kExitOk;
  for (const std::string& identity : targets) {
    // A signal for an identity no process heartbeats under would sit in Redis unread (a typo,
    // or a process that has stopped): say so instead of "sent".
    if (!registered.contains(identity)) {
      fmt::print(env.err, "kiq: no running process {} (see `kiq processes`); nothing sent\n",
                 identity);
      code = kExitFailure;
      continue;
    }
    store->signal(identity, signal);
    fmt::print(env.out, "{} sent to {} (acted on at its next heartbeat)\n", signal, identity);
  }
  return code;
}

using RunFn = int (*)(Env&, const InfoFlags&);

CLI::App* add_info_command(CLI::App& app, Env& env, Dispatch& dispatch, const char* name,
                           const char* description, RunFn run, bool json) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = app.add_subcommand(name, description);
  add_redis_option(*cmd, flags->redis);
  if (json) cmd->add_flag("--json", flags->json, "Print JSON");
  cmd->callback([flags, run, &env, &dispatch] {
    dispatch.runner = [flags, run, &env] { return run(env, *flags); };
  });
  return cmd;
}

void add_signal_command(CLI::App& app, Env& env, Dispatch& dispatch, const char* name,
                        const char* description, const char* signal) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("IDENTITY", flags->identities, "Process identity (host:pid:nonce); repeatable");
  cmd->add_flag("--all", flags->all, "Every live process");
  add_redis_option(*cmd, flags->redis);
  cmd->callback([flags, signal, &env, &dispatch] {
    dispatch.runner = [flags, signal, &env] { return run_signal(env, *flags, signal); };
  });
}

}  // namespace

std::string format_time(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

void install_info(CLI::App& app, Env& env, Dispatch& dispatch) {
  add_info_command(app, env, dispatch, "stats",
                   "Counters: processed, failed, enqueued, busy, scheduled, retries, dead, processes",
                   run_stats, true);
  add_info_command(app, env, dispatch, "queues", "Queues with size and latency", run_queues, true);
  add_info_command(app, env, dispatch, "processes", "Live server processes (kiq and Ruby Sidekiq)",
                   run_processes, true);
  add_signal_command(app, env, dispatch, "quiet",
                     "Asks a server process to stop fetching jobs (as the Web UI's Quiet button)", "TSTP");
  add_signal_command(app, env, dispatch, "stop",
                     "Asks a server process to shut down gracefully (as the Web UI's Stop button)", "TERM");
}

}  // namespace kiq::cli
