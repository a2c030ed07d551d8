// Client and server middleware chains (Sidekiq's Middleware::Chain), the public extension point
// that kiq's own tracing instrumentation plugs into.
//
// Thread-safety: a chain is configured before the client/server starts and is read-only
// afterwards; middleware objects are shared by all threads and must be thread-safe themselves.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiq {

using Json = nlohmann::json;
class JobContext;  // job.hpp: the job being run (hash, queue, jid, retry count, client, kv)

// Why a job hash is being pushed.
enum class PushOrigin {
  kClient,     // perform_async / perform_in / perform_at / push_bulk from user code
  kScheduler,  // the poller moving a due scheduled job to its queue
  kRetry,      // the poller moving a due retry to its queue
};

struct ClientCall {
  Json& job;             // the normalized job hash; middleware may add or change keys
  std::string queue;
  PushOrigin origin = PushOrigin::kClient;
};

// Runs around every push. Call next() to continue the chain (the last link writes to the
// store); return false without calling next() to stop the push (the client reports "not
// pushed"). Exceptions propagate to the caller of the push.
class ClientMiddleware {
 public:
  virtual ~ClientMiddleware() = default;
  virtual bool call(ClientCall& call, const std::function<bool()>& next) = 0;
};

// Runs around every job execution, inside the retry handling: an exception thrown by next()
// (the job) or by the middleware itself leads to a retry or the dead set. Not calling next()
// skips the job (it counts as processed).
class ServerMiddleware {
 public:
  virtual ~ServerMiddleware() = default;
  virtual void call(JobContext& job, const std::function<void()>& next) = 0;
};

// Ordered list; the first added is the outermost. prepend() makes a middleware outermost.
template <class M>
class MiddlewareChain {
 public:
  void add(std::shared_ptr<M> m) { entries_.push_back(std::move(m)); }
  void prepend(std::shared_ptr<M> m) { entries_.insert(entries_.begin(), std::move(m)); }
  void clear() { entries_.clear(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::shared_ptr<M>>& entries() const { return entries_; }

 private:
  std::vector<std::shared_ptr<M>> entries_;
};

using ClientChain = MiddlewareChain<ClientMiddleware>;
using ServerChain = MiddlewareChain<ServerMiddleware>;

}  // namespace kiq
