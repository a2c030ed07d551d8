// The `kiq` binary: the CLI with kiq's built-in load-testing jobs (NoopJob, FailingJob,
// SleepJob, MarkJob). Applications write the same three lines with their own jobs.
#include "kiq/cli.hpp"
#ifdef KIQ_WITH_DEMO
#include "kiq/demo.hpp"  // `kiq demo` (src/demo), when built
#endif

int main(int argc, char** argv) {
  kiq::JobRegistry jobs;
  kiq::cli::register_builtin_jobs(jobs);
  std::vector<kiq::cli::Command> extra;
#ifdef KIQ_WITH_DEMO
  extra.push_back(kiq::demo::command());
#endif
  return kiq::cli::main(argc, argv, jobs, std::move(extra));
}
