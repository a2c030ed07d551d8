// RedisAckBatcher: group commit for ack(). A caller enqueues its LREM; if nobody is sending, it
// becomes the sender and pipelines everything queued so far (its own entry included), again and
// again until the queue is empty; otherwise it returns at once and the active sender sends its
// entry. Under load acks coalesce into large pipelines without any thread sleeping for another;
// when idle an ack costs exactly one round trip, with no timer and no added latency.
// Consequence: under concurrency an ack may return just before its LREM is applied (never
// after the sender stops), and an error is thrown by the sender that met it, not necessarily by
// the caller whose entry failed; either way an entry not removed stays in progress, where the
// stray-job sweep / orphan recovery finds it (at-least-once).
//
// Thread-safety: ack() may be called concurrently from any thread.
#pragma once

#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace kiq {

class RedisPool;

class RedisAckBatcher {
 public:
  explicit RedisAckBatcher(RedisPool& pool) : pool_(pool) {}
  // LREM <list> -1 <payload> (see above). Throws StoreError for a failure this caller met.
  void ack(std::string list, std::string payload);

 private:
  struct Pending {
    std::string list;
    std::string payload;
  };
  // Pipelines the batch; returns the first error (never throws).
  std::exception_ptr send(const std::vector<Pending>& batch);

  RedisPool& pool_;
  std::mutex mu_;
  std::vector<Pending> queue_;
  bool sending_ = false;
};

}  // namespace kiq
