// Where commands find their store: --redis, else REDIS_URL, else the embedded store.
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"

namespace kiq::cli {

std::string StoreChoice::describe() const {
  if (embedded()) return "embedded memory store (no --redis or REDIS_URL given)";
  return fmt::format("{} (from {})", url, source);
}

StoreChoice resolve_store(const std::string& redis_flag) {
  if (!redis_flag.empty()) return {redis_flag, "--redis"};
  const char* env = std::getenv("REDIS_URL");
  if (env != nullptr && *env != '\0') return {env, "REDIS_URL"};
  return {"", "embedded"};
}

std::shared_ptr<Store> open_store(const StoreChoice& choice) {
  std::shared_ptr<Store> store;
  try {
    store = kiq::open_store(choice.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("{} (from {})", e.what(), choice.source));  // names the URL
  }
  try {
    store->ping_us();  // fail now, with one clear line, rather than in the middle of a command
  } catch (const std::exception& e) {
    throw StoreError(fmt::format("cannot reach Redis: {}", e.what()));
  }
  return store;
}

void add_redis_option(CLI::App& cmd, std::string& url) {
  cmd.add_option("--redis", url,
                 "Redis URL redis://[:password@]host[:port][/db] (default: $REDIS_URL, else the "
                 "embedded in-process store)");
}

std::shared_ptr<Store> open_shared_store(Env& env, const std::string& redis_flag) {
  // Short-lived admin commands report a failure in one line themselves; the store's own
  // reconnect warnings (spdlog's default logger, on stdout) would only duplicate it and could
  // corrupt --json output.
  spdlog::default_logger()->set_level(spdlog::level::err);
  StoreChoice choice = resolve_store(redis_flag);
  if (choice.embedded()) {
    env.err << "note: no --redis or REDIS_URL: using this process's own embedded store, which no "
               "other process (e.g. a running `kiq server`) can see\n";
  }
  return open_store(choice);
}

}  // namespace kiq::cli
