// `kiq demo`: the tutorial's scenarios end to end on the embedded store, printed as trace trees.
//
// A few web requests (root SERVER spans) enqueue the example jobs: a payment that fails
// temporarily and succeeds on retry, one that fails permanently (and notifies the customer), a
// report fanning out to section jobs, a scheduled report running late, a user sync batch below
// its success threshold, a welcome notification. A kiq::Server runs them with retry backoff and
// scheduled delays multiplied by `time_scale` (said so in the output), then every trace is
// printed as an indented tree. With OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) set, the
// same spans also go out over OTLP/HTTP.
//
// Thread-safety: run() is meant to be called once from the main thread; it installs and then
// removes the global tracer provider.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "kiq/tracing.hpp"

namespace kiq::cli {
struct Command;
}

namespace kiq::demo {

struct DemoOptions {
  double time_scale = 0.01;  // retry backoff and scheduled delays are multiplied by this
  tracing::PropagationStyle propagation = tracing::PropagationStyle::kChild;  // one tree per request
  std::optional<bool> color;  // nullopt: colour when `out` is a TTY (and NO_COLOR unset)
  bool all_attributes = false;
  int concurrency = 5;
  double timeout_seconds = 20;  // give up waiting for the jobs after this
};

// Returns an exit code (0: every scenario ended as expected).
int run(const DemoOptions& options, std::ostream& out, std::ostream& err);

// The `demo` subcommand for kiq::cli::main.
cli::Command command();

}  // namespace kiq::demo
