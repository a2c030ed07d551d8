// Tracing for `kiq server` (owned by the tracing instrumentation, src/instrumentation): the
// job-tracing middleware is always installed (inert while no tracer provider is set); the SDK is
// configured from the OTEL_* environment only when the user asks for export, so a plain
// `kiq server` never tries to reach a collector.
#pragma once

#include <chrono>

#include "kiq/otel/sdk/configure.hpp"
#include "kiq/server.hpp"

namespace kiq::cli {

// How long a command's spans get to go out when it ends (`kiq enqueue` at exit, `kiq server`
// once its jobs are done): a collector that is down costs a warning, not a hang, and a server
// stopped with the default -t 25 still exits within the usual 30 s before SIGKILL.
inline constexpr std::chrono::seconds kTracingExitGrace{3};

// A TracingGuard that shuts the SDK down within kTracingExitGrace when destroyed, however the
// command ends (an exception from the store or the server included), not in the guard's
// default 30 s.
struct ExitGraceGuard {
  ExitGraceGuard() = default;
  ExitGraceGuard(ExitGraceGuard&&) = default;
  ExitGraceGuard& operator=(ExitGraceGuard&&) = delete;
  ~ExitGraceGuard() { guard.shutdown(kTracingExitGrace); }

  otel::sdk::TracingGuard guard;
};

// True when OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (non-empty).
bool tracing_requested_by_env();

// Configures the SDK (configure(): exporters, sampler, resource, propagators from the
// environment; service.name "kiq" unless the environment names one) when requested, adds the
// job-attributes processor, and installs the tracing middleware into `options`. Call after the
// signal mask is set: the batch processor starts a thread. Shut the guard down once the server
// has stopped (to log after it); destruction does it otherwise.
ExitGraceGuard setup_server_tracing(ServerOptions& options);

// Tracing for commands that push jobs (`kiq enqueue`): when requested by the environment,
// configures the SDK as above (exporters, sampler, resource, propagators; service.name "kiq"
// by default) and returns the client chain with the tracing middleware (a PRODUCER span per
// job, its context injected into the job hash). When not requested (or OTEL_SDK_DISABLED), the
// chain is empty, so push_bulk keeps its middleware-free fast path. Destruction flushes the
// spans and shuts the SDK down within kTracingExitGrace (what has not gone out by then is
// dropped, with a warning). Keep it alive until the pushes are done.
struct ClientTracing : ExitGraceGuard {
  ClientChain chain;
  // Jobs to push between two guard.force_flush() calls so a burst (`--count 100000`) never
  // overflows the batch processor's queue (which drops spans when full); 0 without tracing.
  std::size_t flush_every = 0;
};
ClientTracing setup_client_tracing();

}  // namespace kiq::cli
