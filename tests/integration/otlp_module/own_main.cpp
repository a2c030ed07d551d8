// The README's "own main" (link the `kiq` CMake target, hand over to the CLI): such programs
// get the OTLP exporter linked in and never load libkiq_otlp.so (tested by otlp_module_test).
#include <kiq/cli.hpp>

int main(int argc, char** argv) {
  kiq::JobRegistry jobs;
  kiq::cli::register_builtin_jobs(jobs);
  return kiq::cli::main(argc, argv, jobs);
}
