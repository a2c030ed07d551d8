// `kiq retries|scheduled|dead list|retry|delete|kill|clear`: Sidekiq's RetrySet / ScheduledSet /
// DeadSet API on the command line. "retry" is the Web UI's "Retry now" / "Add to queue": the
// job (retry_count decremented when present, as Sidekiq's SortedEntry#retry does) is pushed
// back to its queue with the same jid and every other key kept.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/commands.hpp"
#include "kiq/kiq.hpp"

namespace kiq::cli {
namespace {

struct SetFlags {
  std::string redis;
  std::int64_t limit = 25;
  bool json = false;
  std::string jid;
  bool all = false;
};

struct SetInfo {
  SortedSetName name;
  const char* command;  // "retries"
  const char* title;    // "retry set"
  bool newest_first;    // the dead set lists newest first, like the Web UI
};

Json parse_payload(const std::string& payload) {
  Json job = Json::parse(payload, nullptr, false);
  return job.is_object() ? job : Json{{"raw", payload}};
}

std::string short_text(const Json& value, std::size_t max) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

int run_list(Env& env, const SetInfo& set, const SetFlags& f) {
  if (f.limit < 0) throw UsageError("--limit must be >= 0");
  auto store = open_shared_store(env, f.redis);
  std::vector<ScoredPayload> entries = store->range(set.name, 0, f.limit, set.newest_first);
  if (f.json) {
    Json all = Json::array();
    for (const ScoredPayload& e : entries) all.push_back({{"score", e.score}, {"job", parse_payload(e.payload)}});
    env.out << all.dump() << '\n';
    return kExitOk;
  }
  fmt::print(env.out, "{} of {} in the {}\n", entries.size(), store->size(set.name), set.title);
  for (const ScoredPayload& e : entries) {
    Json job = parse_payload(e.payload);
    fmt::print(env.out, "{}  {}  {}  {}  {}", format_time(e.score), job.value("jid", "-"),
               job.value("queue", "-"), job.value("class", "?"),
               short_text(job.value("args", Json::array()), 60));
    if (job.contains("error_class")) {
      fmt::print(env.out, "  retry_count={}  {}: {}", job.value("retry_count", Json()).dump(),
                 job.value("error_class", ""), short_text(job.value("error_message", Json("")), 80));
    }
    env.out << '\n';
  }
  return kExitOk;
}

// Entries to act on: the one with --jid, or all of them.
std::vector<ScoredPayload> take_targets(Store& store, const SetInfo& set, const SetFlags& f) {
  std::vector<ScoredPayload> taken;
  if (!f.all) {
    std::optional<ScoredPayload> entry = store.take(set.name, f.jid);
    if (!entry) throw std::runtime_error(fmt::format("no job with jid {} in the {}", f.jid, set.title));
    taken.push_back(std::move(*entry));
    return taken;
  }
  // take() one by one so that entries added meanwhile are not lost by a blind clear.
  for (const ScoredPayload& e : store.range(set.name, 0, store.size(set.name))) {
    Json job = parse_payload(e.payload);
    if (!job.contains("jid") || !job["jid"].is_string()) continue;
    if (auto entry = store.take(set.name, job["jid"].get<std::string>())) taken.push_back(std::move(*entry));
  }
  return taken;
}

void require_target(const SetFlags& f) {
  if (f.jid.empty() == !f.all) throw UsageError("give exactly one of JID or --all");
}

int run_retry(Env& env, const SetInfo& set, const SetFlags& f) {
  require_target(f);
  auto store = open_shared_store(env, f.redis);
  Client client(store, {}, &env.jobs);
  std::size_t pushed = 0;
  for (ScoredPayload& entry : take_targets(*store, set, f)) {
    Json job = Json::parse(entry.payload, nullptr, false);
    if (!job.is_object()) {
      store->add(set.name, entry.score, entry.payload);  // not a job hash: leave it where it was
      fmt::print(env.err, "skipped an entry that is not a job hash: {}\n", short_text(Json(entry.payload), 80));
      continue;
    }
    if (job.contains("retry_count") && job["retry_count"].is_number_integer()) {
      job["retry_count"] = job["retry_count"].get<std::int64_t>() - 1;
    }
    try {
      client.push(job);
    } catch (...) {
      store->add(set.name, entry.score, entry.payload);  // never lose the job
      throw;
    }
    ++pushed;
  }
  fmt::print(env.out, "{} job(s) pushed back to their queues\n", pushed);
  return kExitOk;
}

int run_kill(Env& env, const SetInfo& set, const SetFlags& f) {
  require_target(f);
  auto store = open_shared_store(env, f.redis);
  std::vector<ScoredPayload> taken = take_targets(*store, set, f);
  double now = epoch_now();
  for (const ScoredPayload& entry : taken) store->add(SortedSetName::kDead, now, entry.payload);
  store->trim_dead(now, DeadSetLimits{});
  fmt::print(env.out, "{} job(s) moved to the dead set\n", taken.size());
  return kExitOk;
}

int run_delete(Env& env, const SetInfo& set, const SetFlags& f) {
  require_target(f);
  auto store = open_shared_store(env, f.redis);
  std::size_t deleted = f.all ? static_cast<std::size_t>(store->clear(set.name))
                              : take_targets(*store, set, f).size();
  fmt::print(env.out, "{} job(s) deleted\n", deleted);
  return kExitOk;
}

int run_clear(Env& env, const SetInfo& set, const SetFlags& f) {
  auto store = open_shared_store(env, f.redis);
  fmt::print(env.out, "{} job(s) deleted\n", store->clear(set.name));
  return kExitOk;
}

using RunFn = int (*)(Env&, const SetInfo&, const SetFlags&);

void add_action(CLI::App& parent, Env& env, Dispatch& dispatch, const SetInfo& set,
                const char* name, const char* description, RunFn run, bool targeted) {
  auto flags = std::make_shared<SetFlags>();
  CLI::App* cmd = parent.add_subcommand(name, description);
  if (targeted) {
    cmd->add_option("JID", flags->jid, "The job's jid");
    cmd->add_flag("--all", flags->all, "Every job in the set");
  }
  if (run == run_list) {
    cmd->add_option("--limit", flags->limit, "At most this many entries")->capture_default_str();
    cmd->add_flag("--json", flags->json, "Print JSON: [{\"score\":..,\"job\":{..}}]");
  }
  add_redis_option(*cmd, flags->redis);
  cmd->callback([flags, set, run, &env, &dispatch] {
    dispatch.runner = [flags, set, run, &env] { return run(env, set, *flags); };
  });
}

void install_set(CLI::App& app, Env& env, Dispatch& dispatch, const SetInfo& set,
                 const char* description) {
  CLI::App* cmd = app.add_subcommand(set.command, description);
  cmd->require_subcommand(1);
  add_action(*cmd, env, dispatch, set, "list", "Lists jobs (soonest first; dead: newest first)", run_list, false);
  add_action(*cmd, env, dispatch, set, "retry",
             "Pushes jobs back to their queue now (retry_count - 1, as the Web UI's Retry)",
             run_retry, true);
  add_action(*cmd, env, dispatch, set, "delete", "Deletes jobs", run_delete, true);
  if (set.name != SortedSetName::kDead) {
    add_action(*cmd, env, dispatch, set, "kill", "Moves jobs to the dead set", run_kill, true);
  }
  add_action(*cmd, env, dispatch, set, "clear", "Deletes every job in the set", run_clear, false);
}

}  // namespace

void install_sets(CLI::App& app, Env& env, Dispatch& dispatch) {
  install_set(app, env, dispatch, {SortedSetName::kRetry, "retries", "retry set", false},
              "Failed jobs waiting for their next attempt (Sidekiq's RetrySet)");
  install_set(app, env, dispatch, {SortedSetName::kSchedule, "scheduled", "schedule", false},
              "Jobs scheduled for later (Sidekiq's ScheduledSet)");
  install_set(app, env, dispatch, {SortedSetName::kDead, "dead", "dead set", true},
              "Jobs that used up their retries (Sidekiq's DeadSet)");
}

}  // namespace kiq::cli
