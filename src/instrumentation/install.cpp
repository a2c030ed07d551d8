// Wiring the tracing middlewares into chains.
#include "instrumentation/middlewares.hpp"
#include "kiq/server.hpp"

namespace kiq::tracing {
namespace {

// Rebuilds `chain` without kiq's tracing middleware of type T, then prepends `m`.
template <class T, class M>
void prepend_replacing(MiddlewareChain<M>& chain, std::shared_ptr<M> m) {
  auto entries = chain.entries();
  chain.clear();
  for (auto& e : entries)
    if (!dynamic_cast<T*>(e.get())) chain.add(e);
  chain.prepend(std::move(m));
}

}  // namespace

std::shared_ptr<ClientMiddleware> make_client_middleware(TracingOptions options) {
  return std::make_shared<detail::TracingClientMiddleware>(std::move(options));
}

std::shared_ptr<ServerMiddleware> make_server_middleware(TracingOptions options) {
  return std::make_shared<detail::TracingServerMiddleware>(std::move(options));
}

void install(ClientChain& client, ServerChain& server, const TracingOptions& options) {
  prepend_replacing<detail::TracingClientMiddleware>(client, make_client_middleware(options));
  prepend_replacing<detail::TracingServerMiddleware>(server, make_server_middleware(options));
}

void install(ServerOptions& server, const TracingOptions& options) {
  install(server.client_middleware, server.server_middleware, options);
  if (options.trace_heartbeat) {
    server.around_heartbeat = [source = std::make_shared<detail::TracerSource>(options.tracer_provider),
                               peer = options.peer_service](const std::function<void()>& beat) {
      detail::GlobalsScope globals;
      otel::Tracer* tracer = source->tracer(globals);
      if (!tracer) return beat();
      otel::StartSpanOptions start;
      start.parent = otel::kRoot;  // never part of a job's trace
      if (!peer.empty()) start.attributes.push_back({"peer.service", peer});
      tracer->in_span("kiq.heartbeat", std::move(start), [&] { beat(); });
    };
  }
}

ClientChain client_chain(const TracingOptions& options) {
  ClientChain chain;
  chain.add(make_client_middleware(options));
  return chain;
}

}  // namespace kiq::tracing
