// The built-in subcommands, one file each (server, enqueue, sets, info). Each installer adds
// its subcommand(s) to the app and arranges for `run` to be set to the chosen one's runner.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "kiq/cli.hpp"

namespace kiq::cli {

// Set by the chosen subcommand's callback; run() executes it after parsing.
struct Dispatch {
  Runner runner;
};

void install_server(CLI::App& app, Env& env, Dispatch& dispatch);
void install_enqueue(CLI::App& app, Env& env, Dispatch& dispatch);
// stats, queues, processes, quiet, stop
void install_info(CLI::App& app, Env& env, Dispatch& dispatch);
// retries, scheduled, dead
void install_sets(CLI::App& app, Env& env, Dispatch& dispatch);

// Opens the store for a command that needs one shared with other processes; prints a note on
// env.err when that is the embedded store (it only sees this process).
std::shared_ptr<Store> open_shared_store(Env& env, const std::string& redis_flag);

// A number of seconds in [min, max], finite. For every option that takes seconds: CLI11's range
// checks let NaN through (each comparison with it is false), and durations beyond the clocks'
// range overflow the deadlines built from them.
CLI::Validator seconds_in(double min, double max = HUGE_VAL);
inline constexpr double kMaxDurationSeconds = 365.0 * 24 * 3600;  // a year: any real interval
// The shortest positive interval: what milliseconds can hold (less would become 0, a busy loop).
inline constexpr double kMinIntervalSeconds = 0.001;

// `message` without the "kiq: " the library's exceptions start with (the CLI prints its own
// "kiq: error: " in front).
std::string_view without_kiq_prefix(std::string_view message);

// "2026-11-25 09:30:00 UTC" for an epoch-seconds value.
std::string format_time(double epoch);

}  // namespace kiq::cli
