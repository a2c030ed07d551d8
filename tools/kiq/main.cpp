// The `kiq` binary: the CLI with kiq's built-in load-testing jobs (NoopJob, FailingJob,
// SleepJob, MarkJob). Applications write the same three lines with their own jobs.
#include "kiq/cli.hpp"

int main(int argc, char** argv) {
  kiq::JobRegistry jobs;
  kiq::cli::register_builtin_jobs(jobs);
  return kiq::cli::main(argc, argv, jobs);
}
