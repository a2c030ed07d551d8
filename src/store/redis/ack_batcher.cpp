#include "store/redis/ack_batcher.hpp"

#include "store/redis/pool.hpp"

namespace kiq {

void RedisAckBatcher::ack(std::string list, std::string payload) {
  Pending me{std::move(list), std::move(payload), false, nullptr};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (sending_) {
      done_.wait(lock);
      continue;
    }
    sending_ = true;
    std::vector<Pending*> batch;
    batch.swap(queue_);
    lock.unlock();
    send(batch);  // never throws: errors are stored per entry
    lock.lock();
    for (Pending* p : batch) p->done = true;
    sending_ = false;
    done_.notify_all();
  }
  if (me.error) std::rethrow_exception(me.error);
}

void RedisAckBatcher::send(std::vector<Pending*>& batch) {
  try {
    pool_.run([&](RedisPool::Lease& c) {
      for (const Pending* p : batch) c->append({"LREM", p->list, "-1", p->payload});
      for (Pending* p : batch) {
        auto r = c->read_reply();
        p->error = r.is_error() ? std::make_exception_ptr(StoreError("redis error: " + r.str)) : nullptr;
      }
    });
  } catch (...) {  // transport failure: every entry not yet answered shares the error
    auto error = std::current_exception();
    for (Pending* p : batch) {
      if (!p->error) p->error = error;
    }
  }
}

}  // namespace kiq
