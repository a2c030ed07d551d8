#include "store/redis/ack_batcher.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include "store/redis/keys.hpp"
#include "store/redis/pool.hpp"

namespace kiq {
namespace {

void append_length(std::string& out, char kind, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out += kind;
  out.append(digits, static_cast<std::size_t>(end - digits));
  out += "\r\n";
}

}  // namespace

void RedisAckBatcher::append_lrem(Batch& batch, std::string_view identity, std::string_view queue,
                                  std::string_view payload) {
  std::string& out = batch.resp;
  out += "*4\r\n$4\r\nLREM\r\n";
  // redis_keys::in_progress(identity, queue), written in place.
  const std::string_view prefix = redis_keys::kInProgressPrefix;
  append_length(out, '$', prefix.size() + identity.size() + 1 + queue.size());
  out += prefix;
  out += identity;
  out += '|';
  out += queue;
  out += "\r\n$2\r\n-1\r\n";
  append_length(out, '$', payload.size());
  out += payload;
  out += "\r\n";
  ++batch.count;
}

void RedisAckBatcher::ack(std::string_view identity, std::string_view queue, std::string_view payload) {
  std::unique_lock lock(mu_);
  // Someone is sending: it drains the queue (this entry included) before it stops, so return
  // at once instead of sleeping until then (waiting here cost two context switches per job
  // and dominated a no-op drain's CPU) -- unless the queue is full.
  if (sending_) {
    drained_.wait(lock, [&] { return !sending_ || queue_.count < kMaxQueued; });
    if (sending_) {
      append_lrem(queue_, identity, queue, payload);
      return;
    }
  }
  std::size_t own = queue_.count;
  append_lrem(queue_, identity, queue, payload);
  sending_ = true;
  Batch batch = std::move(spare_);
  batch.clear();
  std::exception_ptr own_error;
  while (queue_.count > 0) {
    std::swap(batch, queue_);  // queue_ gets the emptied buffer: appends reuse its capacity
    lock.unlock();
    drained_.notify_all();
    if (std::exception_ptr error = send(batch, own)) own_error = error;
    own = kNoOwn;
    batch.clear();
    lock.lock();
  }
  spare_ = std::move(batch);
  sending_ = false;
  lock.unlock();
  drained_.notify_all();
  if (own_error) std::rethrow_exception(own_error);
}

std::exception_ptr RedisAckBatcher::send(const Batch& batch, std::size_t own) {
  std::exception_ptr own_error;
  std::size_t others_failed = 0;
  std::string first_message;
  auto failed = [&](std::size_t i, std::exception_ptr error, const std::string& message) {
    if (i == own) {
      own_error = std::move(error);
    } else if (others_failed++ == 0) {
      first_message = message;
    }
  };
  try {
    pool_.run([&](RedisPool::Lease& c) {
      own_error = nullptr;  // run() may retry this on a fresh connection: count afresh
      others_failed = 0;
      c->send_formatted(batch.resp, batch.count);
      for (std::size_t i = 0; i < batch.count; ++i) {
        auto r = c->read_reply();
        if (!r.is_error()) continue;
        std::string message = "redis error: " + r.str;
        failed(i, std::make_exception_ptr(StoreError(message)), message);
      }
    });
  } catch (const std::exception& e) {  // transport failure: every entry of the batch failed
    own_error = nullptr;
    others_failed = 0;
    for (std::size_t i = 0; i < batch.count; ++i) failed(i, std::current_exception(), e.what());
  }
  if (others_failed > 0) {
    spdlog::warn("kiq: {} ack(s) of other workers failed ({}); those jobs stay in progress and "
                 "will be recovered", others_failed, first_message);
  }
  return own_error;
}

}  // namespace kiq
