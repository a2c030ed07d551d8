// Orphan recovery (see orphan_recovery.hpp for the two rules and why they are safe).
#include "server/orphan_recovery.hpp"

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace kiq::server {
namespace {

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string compute_scope() {
  std::string boot_id = read_first_line("/proc/sys/kernel/random/boot_id");
  char ns[128] = {};
  ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
  if (boot_id.empty() || n <= 0) return {};
  return boot_id + "/" + std::string(ns, static_cast<std::size_t>(n));
}

}  // namespace

const std::string& local_process_scope() {
  static const std::string scope = compute_scope();  // immutable after first use
  return scope;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0) return true;  // not a real pid: never conclude "dead"
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

std::optional<ProcessLocation> location_of(const ProcessRecord& record) {
  nlohmann::json info = nlohmann::json::parse(record.info_json, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object()) return std::nullopt;
  auto pid = info.find("pid");
  if (pid == info.end() || !pid->is_number_integer()) return std::nullopt;
  ProcessLocation location;
  location.pid = static_cast<pid_t>(pid->get<std::int64_t>());
  auto scope = info.find(kScopeInfoKey);
  if (scope != info.end() && scope->is_string()) location.scope = scope->get<std::string>();
  return location;
}

OrphanRecovery::OrphanRecovery(Store& store, std::string self_identity,
                               std::shared_ptr<spdlog::logger> logger)
    : store_(store), self_(std::move(self_identity)), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

std::size_t OrphanRecovery::recover_dead_local() {
  const std::string& scope = local_process_scope();
  if (scope.empty()) return 0;
  std::size_t jobs = 0;
  for (const ProcessRecord& record : store_.processes()) {
    if (record.identity == self_) continue;
    std::optional<ProcessLocation> where = location_of(record);
    if (!where || where->scope != scope || where->pid == ::getpid() || pid_alive(where->pid)) continue;
    // Requeue first, then forget the process: a crash in between leaves its jobs to rule 1.
    std::size_t n = store_.recover(record.identity);
    store_.remove_process(record.identity);
    logger_->warn("orphan recovery: process {} (pid {}) on this host is gone; requeued {} job(s)",
                  record.identity, where->pid, n);
    jobs += n;
  }
  return jobs;
}

RecoveryCounts OrphanRecovery::run_once() {
  RecoveryCounts counts;
  try {
    counts.local_dead = recover_dead_local();
    counts.expired = store_.recover_orphans();
    if (counts.expired > 0) {
      logger_->warn("orphan recovery: requeued {} job(s) of processes whose heartbeat expired",
                    counts.expired);
    }
    if (failing_) logger_->info("orphan recovery: store reachable again");
    failing_ = false;
  } catch (const StoreError& e) {
    if (!failing_) logger_->error("orphan recovery: store unavailable, will retry: {}", e.what());
    failing_ = true;
  }
  return counts;
}

std::chrono::milliseconds OrphanRecovery::next_delay(std::chrono::milliseconds interval) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.75, 1.25);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(interval.count()) * factor(rng)));
}

}  // namespace kiq::server
