// The chaos scenario (see chaos_run.hpp).
#include "chaos/chaos_run.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "kiq/client.hpp"
#include "kiq/store/redis.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace kiq::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::RedisServer;

constexpr const char* kSet = "chaos:done";
constexpr const char* kRuns = "chaos:runs";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Redis replies rendered by RedisServer::command: integers as digits, arrays space-separated.
std::int64_t to_int(const std::string& text) {
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return 0;  // "(nil)" for a missing counter
  }
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct Event {
  enum class Kind { kKill, kRedisRestart } kind;
  std::int64_t at_marked;  // fires once this many ids are in the set
};

// A kill whose victim may still own jobs: recovery is over when it owns none.
struct PendingRecovery {
  std::string identity;
  Clock::time_point killed_at;
};

class Scenario {
 public:
  explicit Scenario(const ChaosOptions& options)
      : options_(options),
        redis_(testing::RedisServerOptions{.persistence = options.redis_restarts > 0}),
        logs_("kiq-chaos") {
    report_.seed = options.seed != 0 ? options.seed : std::random_device{}();
    report_.jobs = options.jobs;
    rng_.seed(report_.seed);
  }

  ChaosReport run() {
    const auto started = Clock::now();
    deadline_ = started + options_.deadline;
    log(fmt::format("chaos: seed {}, {} jobs, {} kills, {} redis restarts, redis {}", report_.seed,
                    options_.jobs, options_.kills, options_.redis_restarts, redis_.url()));
    enqueue();
    server_ = spawn_server();
    first_server_pid_ = server_.pid();
    run_events(plan_events());
    wait_for_drain();
    check_end_state();
    stop_server();
    report_.elapsed_s = seconds_since(started);
    return report_;
  }

 private:
  void log(const std::string& line) {
    if (options_.log) options_.log(line);
  }
  void problem(std::string text) {
    log("chaos: PROBLEM: " + text);
    report_.problems.push_back(std::move(text));
  }
  bool before_deadline() const { return Clock::now() < deadline_; }

  // A fresh connection per call: keeps working across redis restarts.
  std::optional<std::string> redis(const std::vector<std::string>& argv) {
    try {
      return redis_.command(argv);
    } catch (const std::exception&) {
      return std::nullopt;  // down (being restarted): the caller polls again
    }
  }
  std::int64_t marked() { return to_int(redis({"SCARD", kSet}).value_or("0")); }

  void enqueue() {
    auto store = make_redis_store(redis_.url());
    Client client(store);
    std::vector<Json> args;
    args.reserve(static_cast<std::size_t>(options_.jobs));
    for (int i = 0; i < options_.jobs; ++i) args.push_back(Json::array({kSet, fmt::format("id-{}", i), kRuns}));
    std::size_t pushed = client.push_bulk("MarkJob", args).size();
    if (pushed != args.size()) problem(fmt::format("enqueued {} of {} jobs", pushed, args.size()));
    log(fmt::format("chaos: enqueued {} MarkJobs", pushed));
  }

  ChildProcess spawn_server() {
    std::string log_path = logs_.file(fmt::format("server-{}.log", ++servers_));
    server_logs_.push_back(log_path);
    std::vector<std::string> args = {
        "server", "--redis", redis_.url(), "-c", std::to_string(options_.concurrency), "--quiet",
        "-t", "5", "--poll-interval", "1",
        "--heartbeat-interval", fmt::format("{}", options_.heartbeat_interval_s),
        "--process-ttl", std::to_string(options_.process_ttl_s),
        "--orphan-check-interval", fmt::format("{}", options_.orphan_check_interval_s)};
    testing::ChildOptions child{.unset_env = {"REDIS_URL"}, .stdout_path = log_path, .stderr_path = log_path};
    return ChildProcess::spawn(options_.kiq_binary, args, child);
  }

  std::vector<Event> plan_events() {
    // Fire between 10% and 85% of the run, at random points, in order.
    std::uniform_real_distribution<double> fraction(0.10, 0.85);
    std::vector<Event> events;
    for (int i = 0; i < options_.kills; ++i)
      events.push_back({Event::Kind::kKill, static_cast<std::int64_t>(fraction(rng_) * options_.jobs)});
    for (int i = 0; i < options_.redis_restarts; ++i)
      events.push_back({Event::Kind::kRedisRestart, static_cast<std::int64_t>(fraction(rng_) * options_.jobs)});
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at_marked < b.at_marked; });
    return events;
  }

  void run_events(const std::vector<Event>& events) {
    std::int64_t floor = 0;  // let the servers make progress between two events
    for (const Event& event : events) {
      const std::int64_t target = std::max(event.at_marked, floor);
      while (before_deadline() && marked() < target) {
        check_recoveries();
        pause_ms(5);
      }
      if (!before_deadline()) {
        problem(fmt::format("deadline passed before {} ids were marked", target));
        return;
      }
      if (event.kind == Event::Kind::kKill) kill_and_replace();
      else restart_redis();
      floor = marked() + options_.jobs / 20;
    }
  }

  // The identity whose heartbeat info names `pid` (the server announces itself at start).
  std::optional<std::string> identity_of(pid_t pid) {
    for (const std::string& id : words(redis({"SMEMBERS", "processes"}).value_or(""))) {
      std::optional<std::string> info = redis({"HGET", id, "info"});
      if (!info) continue;
      Json j = Json::parse(*info, nullptr, false);
      if (j.is_object() && j.value("pid", Json()).is_number_integer() && j["pid"].get<pid_t>() == pid) return id;
    }
    return std::nullopt;
  }

  std::int64_t owned_jobs(const std::string& identity) {
    std::int64_t n = 0;
    for (const std::string& queue : words(redis({"SMEMBERS", "kiq:inprogress|" + identity}).value_or("")))
      n += to_int(redis({"HLEN", "kiq:inprogress|" + identity + "|" + queue}).value_or("0"));
    return n;
  }

  void kill_and_replace() {
    pid_t pid = server_.pid();
    std::optional<std::string> identity = identity_of(pid);
    server_.signal(SIGKILL);
    auto killed_at = Clock::now();
    server_.wait();
    ++report_.kills;
    std::int64_t owned = identity ? owned_jobs(*identity) : -1;
    log(fmt::format("chaos: kill -9 #{} of pid {} ({}) at {} marked; it owned {} in-progress job(s)",
                    report_.kills, pid, identity.value_or("identity unknown"), marked(), owned));
    if (!identity) problem(fmt::format("killed server pid {} was not in `processes`", pid));
    else pending_.push_back({*identity, killed_at});
    server_ = spawn_server();
  }

  void restart_redis() {
    std::uniform_int_distribution<int> down_ms(200, 1500);
    int ms = down_ms(rng_);
    log(fmt::format("chaos: stopping redis-server at {} marked, for {} ms", marked(), ms));
    redis_.stop();
    pause_ms(ms);
    redis_.restart();
    ++report_.redis_restarts;
    log(fmt::format("chaos: redis-server restarted (#{}), {} marked", report_.redis_restarts, marked()));
  }

  void check_recoveries() {
    std::erase_if(pending_, [&](const PendingRecovery& p) {
      if (owned_jobs(p.identity) > 0) return false;
      double s = std::chrono::duration<double>(Clock::now() - p.killed_at).count();
      report_.recovery_s.push_back(s);
      report_.max_recovery_s = std::max(report_.max_recovery_s, s);
      log(fmt::format("chaos: jobs of {} recovered {:.3f} s after the kill", p.identity, s));
      return true;
    });
  }

  std::int64_t left_in_progress() {
    std::int64_t n = 0;
    for (const std::string& id : words(redis({"SMEMBERS", "kiq:inprogress"}).value_or(""))) n += owned_jobs(id);
    return n;
  }

  void sample_end_state() {
    report_.marked = marked();
    report_.left_queued = to_int(redis({"LLEN", "queue:default"}).value_or("-1"));
    report_.left_in_progress = left_in_progress();
    report_.retry = to_int(redis({"ZCARD", "retry"}).value_or("-1"));
    report_.dead = to_int(redis({"ZCARD", "dead"}).value_or("-1"));
    report_.runs = to_int(redis({"GET", kRuns}).value_or("0"));
  }

  bool drained() const {
    return report_.marked == options_.jobs && report_.left_queued == 0 &&
           report_.left_in_progress == 0 && report_.retry == 0 && report_.dead == 0 &&
           report_.runs >= report_.marked;
  }

  void wait_for_drain() {
    for (;;) {
      check_recoveries();
      sample_end_state();
      if ((drained() && pending_.empty()) || !before_deadline()) break;
      pause_ms(50);
    }
    report_.lost = options_.jobs - report_.marked;
    report_.duplicates = std::max<std::int64_t>(0, report_.runs - report_.marked);
    log(fmt::format("chaos: end state: {} marked, {} runs, queued {}, in progress {}, retry {}, dead {}",
                    report_.marked, report_.runs, report_.left_queued, report_.left_in_progress,
                    report_.retry, report_.dead));
  }

  void check_end_state() {
    if (report_.lost != 0) problem(fmt::format("{} job(s) lost (not in the set)", report_.lost));
    if (report_.left_queued != 0) problem(fmt::format("{} job(s) left in queue:default", report_.left_queued));
    if (report_.left_in_progress != 0)
      problem(fmt::format("{} job(s) left in in-progress lists", report_.left_in_progress));
    if (report_.retry != 0) problem(fmt::format("{} job(s) in the retry set", report_.retry));
    if (report_.dead != 0) problem(fmt::format("{} job(s) in the dead set", report_.dead));
    if (!pending_.empty()) problem(fmt::format("{} killed process(es) still own jobs", pending_.size()));
    if (report_.kills != options_.kills || report_.redis_restarts != options_.redis_restarts)
      problem("not every planned kill/restart happened");
    if (options_.redis_restarts > 0) check_survivor();
  }

  void check_survivor() {
    report_.server_survived = server_.running() && server_.pid() == first_server_pid_;
    if (!report_.server_survived) {
      problem("the server did not survive the redis restarts");
      return;
    }
    // Visible again = its heartbeat re-registered it after the last restart.
    std::optional<std::string> identity;
    while (before_deadline() && !(identity = identity_of(server_.pid()))) pause_ms(100);
    report_.process_visible = identity.has_value();
    if (!identity) problem("the server's process is not visible in `processes` after the restarts");
  }

  void stop_server() {
    testing::ExitStatus status = server_.terminate(std::chrono::seconds(30));
    if (!status.success()) problem("the last server did not stop cleanly on SIGTERM: " + status.describe());
    if (!report_.ok()) {
      for (const std::string& path : server_logs_) {
        std::string text = testing::read_file(path);
        log(fmt::format("---- {} (tail) ----\n{}", path, text.size() > 3000 ? text.substr(text.size() - 3000) : text));
      }
    }
  }

  const ChaosOptions& options_;
  RedisServer redis_;
  testing::TempDir logs_;
  std::vector<std::string> server_logs_;
  int servers_ = 0;
  ChildProcess server_;
  pid_t first_server_pid_ = -1;
  std::vector<PendingRecovery> pending_;
  std::mt19937 rng_;
  Clock::time_point deadline_;
  ChaosReport report_;
};

}  // namespace

std::string ChaosReport::summary() const {
  std::string recoveries = recovery_s.empty() ? "-" : fmt::format("{:.2f}", fmt::join(recovery_s, " "));
  return fmt::format(
      "chaos: jobs {}, kills {}, redis restarts {}, lost {}, duplicates {} (runs {}), "
      "recovery max {:.2f} s (each: {}), left: queued {} in-progress {} retry {} dead {}, "
      "elapsed {:.1f} s, seed {}{}",
      jobs, kills, redis_restarts, lost, duplicates, runs, max_recovery_s, recoveries, left_queued,
      left_in_progress, retry, dead, elapsed_s, seed, ok() ? "" : ", PROBLEMS: " + fmt::format("{}", fmt::join(problems, "; ")));
}

ChaosReport run_chaos(const ChaosOptions& options) {
  if (::access(options.kiq_binary.c_str(), X_OK) != 0) {
    throw std::runtime_error("chaos: kiq binary not found: " + options.kiq_binary);
  }
  Scenario scenario(options);
  return scenario.run();
}

}  // namespace kiq::chaos
