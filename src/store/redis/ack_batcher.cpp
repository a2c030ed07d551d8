#include "store/redis/ack_batcher.hpp"

#include "store/redis/pool.hpp"

namespace kiq {

void RedisAckBatcher::ack(std::string list, std::string payload) {
  std::unique_lock lock(mu_);
  queue_.push_back({std::move(list), std::move(payload)});
  // Someone is sending: it drains the queue (this entry included) before it stops, so return
  // at once instead of sleeping until then (waiting here cost two context switches per job
  // and dominated a no-op drain's CPU).
  if (sending_) return;
  sending_ = true;
  std::exception_ptr first_error;
  while (!queue_.empty()) {
    std::vector<Pending> batch;
    batch.swap(queue_);
    lock.unlock();
    if (std::exception_ptr error = send(batch); error && !first_error) first_error = error;
    lock.lock();
  }
  sending_ = false;
  lock.unlock();
  if (first_error) std::rethrow_exception(first_error);
}

std::exception_ptr RedisAckBatcher::send(const std::vector<Pending>& batch) {
  std::exception_ptr error;
  try {
    pool_.run([&](RedisPool::Lease& c) {
      for (const Pending& p : batch) c->append({"LREM", p.list, "-1", p.payload});
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto r = c->read_reply();
        if (r.is_error() && !error) error = std::make_exception_ptr(StoreError("redis error: " + r.str));
      }
    });
  } catch (...) {  // transport failure: the unacked entries stay in progress (recovered later)
    error = std::current_exception();
  }
  return error;
}

}  // namespace kiq
