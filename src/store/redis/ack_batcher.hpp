// RedisAckBatcher: group commit for ack(). A caller enqueues its LREM; if nobody is sending, it
// becomes the sender and pipelines everything queued so far (its own entry included); others
// wait until their entry has been sent. Under load acks coalesce into large pipelines; when
// idle an ack costs exactly one round trip, with no timer and no added latency.
//
// Thread-safety: ack() may be called concurrently from any thread.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace kiq {

class RedisPool;

class RedisAckBatcher {
 public:
  explicit RedisAckBatcher(RedisPool& pool) : pool_(pool) {}
  // LREM <list> 1 <payload>; returns once sent and answered. Throws StoreError.
  void ack(std::string list, std::string payload);

 private:
  struct Pending {
    std::string list;
    std::string payload;
    bool done = false;
    std::exception_ptr error;
  };
  void send(std::vector<Pending*>& batch);

  RedisPool& pool_;
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<Pending*> queue_;
  bool sending_ = false;
};

}  // namespace kiq
