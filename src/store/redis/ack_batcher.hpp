// RedisAckBatcher: group commit for ack(). A caller enqueues its entry (the job's field in its
// in-progress hash); if nobody is sending, it becomes the sender and sends everything queued so
// far (its own entry included), again and again until the queue is empty;
// otherwise it returns at once and the active sender sends its entry. Under load acks coalesce
// into large batches without any thread sleeping for another; when idle an ack costs exactly
// one round trip, with no timer and no added latency. The queue is bounded (kMaxQueued): past
// that, callers wait for the sender, so a sender that falls behind slows the workers down
// instead of growing memory.
// A batch is one `HDEL <hash> field...` per in-progress hash (usually one: one identity, one
// queue), written in RESP by hand and sent with one write; buffers are reused batch to batch.
// Consequences, both within the at-least-once contract: under concurrency an ack may return
// just before its HDEL is applied (never after the sender stops); and a caller learns only of
// its own entry's failure, and only when it sent the entry itself. A failure of an entry sent on
// another caller's behalf is logged (a warning per batch), never thrown at the sender, whose own
// ack may have succeeded. An entry not removed stays in progress, where the stray-job sweep /
// orphan recovery finds it.
//
// Thread-safety: ack() may be called concurrently from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kiq {

class RedisPool;

class RedisAckBatcher {
 public:
  static constexpr std::size_t kMaxQueued = 1024;

  explicit RedisAckBatcher(RedisPool& pool) : pool_(pool) {}
  // HDEL kiq:inprogress|<identity>|<queue> <field> (see above). Throws StoreError only for this
  // caller's own entry.
  void ack(std::string_view identity, std::string_view queue, std::string_view field);

 private:
  // The fields to delete from one in-progress hash.
  struct Group {
    std::string identity;
    std::string queue;
    std::string fields;  // RESP bulk strings
    std::size_t count = 0;
  };
  struct Batch {
    std::vector<Group> groups;  // a group with count 0 is unused (kept for its buffers)
    std::size_t count = 0;      // entries in all groups
    void clear();
  };
  static constexpr std::size_t kNoOwn = static_cast<std::size_t>(-1);
  // Adds the entry; returns the index of its group.
  static std::size_t append(Batch& batch, std::string_view identity, std::string_view queue,
                            std::string_view field);
  // Sends the batch; returns the error of group `own` (the sender's, or kNoOwn), if any
  // (never throws). Failures of other groups are logged.
  std::exception_ptr send(const Batch& batch, std::size_t own);

  RedisPool& pool_;
  std::mutex mu_;
  std::condition_variable drained_;  // the sender took the queue: room again
  Batch queue_;
  Batch spare_;  // the last sender's emptied batch, kept for its buffers
  std::string resp_;  // the sender's RESP text (only the sender touches it)
  bool sending_ = false;
};

}  // namespace kiq
