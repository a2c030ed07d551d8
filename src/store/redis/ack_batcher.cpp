#include "store/redis/ack_batcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "store/redis/pool.hpp"

namespace kiq {

void RedisAckBatcher::ack(std::string list, std::string payload) {
  std::unique_lock lock(mu_);
  // Someone is sending: it drains the queue (this entry included) before it stops, so return
  // at once instead of sleeping until then (waiting here cost two context switches per job
  // and dominated a no-op drain's CPU) -- unless the queue is full.
  if (sending_) {
    drained_.wait(lock, [&] { return !sending_ || queue_.size() < kMaxQueued; });
    if (sending_) {
      queue_.push_back({std::move(list), std::move(payload), false});
      return;
    }
  }
  queue_.push_back({std::move(list), std::move(payload), true});
  sending_ = true;
  std::exception_ptr own_error;
  while (!queue_.empty()) {
    std::vector<Pending> batch;
    batch.swap(queue_);
    lock.unlock();
    drained_.notify_all();
    if (std::exception_ptr error = send(batch)) own_error = error;
    lock.lock();
  }
  sending_ = false;
  lock.unlock();
  drained_.notify_all();
  if (own_error) std::rethrow_exception(own_error);
}

std::exception_ptr RedisAckBatcher::send(const std::vector<Pending>& batch) {
  std::exception_ptr own_error;
  std::size_t others_failed = 0;
  std::string first_message;
  auto failed = [&](const Pending& p, std::exception_ptr error, const std::string& message) {
    if (p.own) {
      own_error = std::move(error);
    } else if (others_failed++ == 0) {
      first_message = message;
    }
  };
  try {
    pool_.run([&](RedisPool::Lease& c) {
      own_error = nullptr;  // run() may retry this on a fresh connection: count afresh
      others_failed = 0;
      for (const Pending& p : batch) c->append({"LREM", p.list, "-1", p.payload});
      for (const Pending& p : batch) {
        auto r = c->read_reply();
        if (!r.is_error()) continue;
        std::string message = "redis error: " + r.str;
        failed(p, std::make_exception_ptr(StoreError(message)), message);
      }
    });
  } catch (const std::exception& e) {  // transport failure: every entry of the batch failed
    own_error = nullptr;
    others_failed = 0;
    for (const Pending& p : batch) failed(p, std::current_exception(), e.what());
  }
  if (others_failed > 0) {
    spdlog::warn("kiq: {} ack(s) of other workers failed ({}); those jobs stay in progress and "
                 "will be recovered", others_failed, first_message);
  }
  return own_error;
}

}  // namespace kiq
