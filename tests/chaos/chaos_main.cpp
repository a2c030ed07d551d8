// kiq_chaos: the chaos scenario at full size, printing the figures the README quotes.
//   kiq_chaos --kiq build/kiq [--jobs 20000] [--kills 3] [--redis-restarts 0] [--seed N]
// Exit code 0 when every guarantee held, 1 otherwise.
#include <iostream>

#include <CLI/CLI.hpp>

#include "chaos/chaos_run.hpp"

int main(int argc, char** argv) {
  kiq::chaos::ChaosOptions o;
  bool verbose = false;
  CLI::App app{"kiq chaos run: SIGKILL servers and restart redis-server while MarkJobs run"};
  app.add_option("--kiq", o.kiq_binary, "Path of the kiq binary")->required();
  app.add_option("--jobs", o.jobs, "MarkJobs to enqueue")->capture_default_str();
  app.add_option("--kills", o.kills, "kill -9 of the running server (each replaced)")->capture_default_str();
  app.add_option("--redis-restarts", o.redis_restarts, "redis-server stop + restart")->capture_default_str();
  app.add_option("-c,--concurrency", o.concurrency, "Server concurrency")->capture_default_str();
  app.add_option("--seed", o.seed, "Random seed (0 = random)");
  app.add_flag("-v,--verbose", verbose, "Print progress");
  CLI11_PARSE(app, argc, argv);
  o.log = [verbose](const std::string& line) {
    if (verbose || line.find("PROBLEM") != std::string::npos) std::cerr << line << std::endl;
  };
  try {
    kiq::chaos::ChaosReport report = kiq::chaos::run_chaos(o);
    std::cout << report.summary() << std::endl;
    return report.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "kiq_chaos: " << e.what() << std::endl;
    return 1;
  }
}
