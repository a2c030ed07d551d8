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

void append_bulk(std::string& out, std::string_view s) {
  append_length(out, '$', s.size());
  out += s;
  out += "\r\n";
}

// More distinct hashes than this in one batch are not kept for reuse.
constexpr std::size_t kKeptGroups = 8;

}  // namespace

void RedisAckBatcher::Batch::clear() {
  if (groups.size() > kKeptGroups) groups.clear();
  for (Group& g : groups) {
    g.fields.clear();
    g.count = 0;
  }
  count = 0;
}

std::size_t RedisAckBatcher::append(Batch& batch, std::string_view identity, std::string_view queue,
                                    std::string_view field) {
  std::size_t i = 0;
  while (i < batch.groups.size() &&
         !(batch.groups[i].identity == identity && batch.groups[i].queue == queue)) {
    ++i;
  }
  if (i == batch.groups.size()) {
    // Reuse an unused group's buffers for the new hash.
    i = 0;
    while (i < batch.groups.size() && batch.groups[i].count > 0) ++i;
    if (i == batch.groups.size()) batch.groups.emplace_back();
    batch.groups[i].identity = identity;
    batch.groups[i].queue = queue;
  }
  Group& g = batch.groups[i];
  append_bulk(g.fields, field);
  ++g.count;
  ++batch.count;
  return i;
}

void RedisAckBatcher::ack(std::string_view identity, std::string_view queue, std::string_view field) {
  std::unique_lock lock(mu_);
  // Someone is sending: it drains the queue (this entry included) before it stops, so return
  // at once instead of sleeping until then (waiting here cost two context switches per job
  // and dominated a no-op drain's CPU) -- unless the queue is full.
  if (sending_) {
    drained_.wait(lock, [&] { return !sending_ || queue_.count < kMaxQueued; });
    if (sending_) {
      append(queue_, identity, queue, field);
      return;
    }
  }
  std::size_t own = append(queue_, identity, queue, field);
  sending_ = true;
  Batch batch = std::move(spare_);
  batch.clear();
  std::exception_ptr own_error;
  while (queue_.count > 0) {
    std::swap(batch, queue_);  // queue_ gets the emptied batch: appends reuse its buffers
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
  resp_.clear();
  std::size_t commands = 0;
  for (const Group& g : batch.groups) {
    if (g.count == 0) continue;
    append_length(resp_, '*', 2 + g.count);
    resp_ += "$4\r\nHDEL\r\n";
    // redis_keys::in_progress(identity, queue), written in place.
    const std::string_view prefix = redis_keys::kInProgressPrefix;
    append_length(resp_, '$', prefix.size() + g.identity.size() + 1 + g.queue.size());
    resp_ += prefix;
    resp_ += g.identity;
    resp_ += '|';
    resp_ += g.queue;
    resp_ += "\r\n";
    resp_ += g.fields;
    ++commands;
  }
  std::exception_ptr own_error;
  std::size_t others_failed = 0;
  std::string first_message;
  auto failed = [&](std::size_t group, std::exception_ptr error, const std::string& message) {
    if (group == own) {
      own_error = std::move(error);
    } else if (others_failed++ == 0) {
      first_message = message;
    }
  };
  // Replies come in group order, skipping unused groups.
  auto each_group = [&](auto&& f) {
    for (std::size_t i = 0; i < batch.groups.size(); ++i)
      if (batch.groups[i].count > 0) f(i);
  };
  try {
    pool_.run([&](RedisPool::Lease& c) {
      own_error = nullptr;  // run() may retry this on a fresh connection: count afresh
      others_failed = 0;
      c->send_formatted(resp_, commands);
      each_group([&](std::size_t i) {
        auto r = c->read_reply();
        if (!r.is_error()) return;
        std::string message = "redis error: " + r.str;
        failed(i, std::make_exception_ptr(StoreError(message)), message);
      });
    });
  } catch (const std::exception& e) {  // transport failure: every entry of the batch failed
    own_error = nullptr;
    others_failed = 0;
    each_group([&](std::size_t i) { failed(i, std::current_exception(), e.what()); });
  }
  if (others_failed > 0) {
    spdlog::warn("kiq: acks of {} other in-progress hash(es) failed ({}); those jobs stay in "
                 "progress and will be recovered", others_failed, first_message);
  }
  return own_error;
}

}  // namespace kiq
