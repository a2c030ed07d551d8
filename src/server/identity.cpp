// Process identity and the Sidekiq-style loggers.
#include <unistd.h>

#include <random>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "kiq/server.hpp"

namespace kiq {

std::string make_identity() {
  std::string host;
  if (const char* dyno = std::getenv("DYNO"); dyno && *dyno) {
    host = dyno;
  } else {
    char buf[256] = {};
    host = gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost";
  }
  std::random_device rd;
  std::uint64_t nonce = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{}:{}:{:012x}", host, getpid(), nonce & 0xffffffffffffULL);
}

std::shared_ptr<spdlog::logger> make_sidekiq_logger(std::string name) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  // Messages carry "<context>LEVEL: text" themselves (Sidekiq puts the level after the context).
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ pid=%P tid=%t %v", spdlog::pattern_time_type::utc));
  return logger;
}

std::shared_ptr<spdlog::logger> make_null_logger(std::string name) {
  auto logger = std::make_shared<spdlog::logger>(std::move(name),
                                                 std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::off);
  return logger;
}

}  // namespace kiq
