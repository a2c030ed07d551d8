// kiq::cli::main: builds the CLI11 app from the built-in and extra subcommands, parses, runs the
// chosen one, and maps failures to exit codes (2 usage, 1 runtime) with one line on stderr.
#include <cmath>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "kiq/kiq.hpp"

namespace kiq::cli {
namespace {

void install_extra(CLI::App& app, Env& env, Dispatch& dispatch, std::vector<Command>& extra) {
  for (Command& command : extra) {
    CLI::App* cmd = app.add_subcommand(command.name, command.description);
    // setup() may add options now; the runner it returns is only valid after parsing, so keep
    // it in a shared slot that the callback moves into the dispatch.
    auto runner = std::make_shared<Runner>(command.setup(*cmd, env));
    cmd->callback([runner, &dispatch] { dispatch.runner = *runner; });
  }
}

int execute(CLI::App& app, const std::vector<std::string>& args, Env& env, Dispatch& dispatch) {
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, env.out, env.err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!dispatch.runner) {
    env.err << app.help();
    return kExitUsage;
  }
  try {
    return dispatch.runner();
  } catch (const UsageError& e) {
    fmt::print(env.err, "kiq: error: {}\n", without_kiq_prefix(e.what()));
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(env.err, "kiq: error: {}\n", without_kiq_prefix(e.what()));
    return kExitFailure;
  }
}

}  // namespace

std::string_view without_kiq_prefix(std::string_view message) {
  constexpr std::string_view kPrefix = "kiq: ";
  if (message.substr(0, kPrefix.size()) == kPrefix) message.remove_prefix(kPrefix.size());
  return message;
}

CLI::Validator seconds_in(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double v = 0;
        const bool ok = CLI::detail::lexical_cast(text, v) && std::isfinite(v);
        if (ok && v >= min && v <= max) return {};
        if (std::isinf(max))
          return fmt::format("{} is not a finite number of seconds >= {}", text, min);
        return fmt::format("{} is not a number of seconds from {} to {}", text, min, max);
      },
      "SECONDS");
}

int run(const std::vector<std::string>& args, JobRegistry& jobs, std::ostream& out,
        std::ostream& err, std::vector<Command> extra) {
  Env env{jobs, out, err};
  Dispatch dispatch;
  CLI::App app{fmt::format("kiq {}: background jobs for C++, speaking Ruby Sidekiq's Redis protocol",
                           kVersion),
               "kiq"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  install_server(app, env, dispatch);
  install_enqueue(app, env, dispatch);
  install_info(app, env, dispatch);
  install_sets(app, env, dispatch);
  install_extra(app, env, dispatch, extra);
  return execute(app, args, env, dispatch);
}

int main(int argc, char** argv, JobRegistry& jobs, std::vector<Command> extra) {
  // Library diagnostics (e.g. the Redis store's outage lines) go to stderr: stdout carries
  // results that scripts read (jids, tables, JSON).
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "kiq", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return run(args, jobs, std::cout, std::cerr, std::move(extra));
}

}  // namespace kiq::cli
