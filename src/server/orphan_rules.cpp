// Orphan recovery rule 2: dead processes of this host (see orphan_rules.hpp for why it is safe).
#include "server/orphan_rules.hpp"

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>

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

std::size_t recover_dead_local_processes(Store& store, std::string_view self, spdlog::logger& logger) {
  const std::string& scope = local_process_scope();
  if (scope.empty()) return 0;
  std::size_t jobs = 0;
  for (const ProcessRecord& record : store.processes()) {
    if (record.identity == self) continue;
    std::optional<ProcessLocation> where = location_of(record);
    if (!where || where->scope != scope || where->pid == ::getpid() || pid_alive(where->pid)) continue;
    // Requeue first, then forget the process: a crash in between leaves its jobs to rule 1.
    std::size_t n = store.recover(record.identity);
    store.remove_process(record.identity);
    logger.warn("WARN: orphan recovery: process {} (pid {}) on this host is gone; requeued {} job(s)",
                record.identity, where->pid, n);
    jobs += n;
  }
  return jobs;
}

}  // namespace kiq::server
