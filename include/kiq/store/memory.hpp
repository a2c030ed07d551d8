// MemoryStore: the embedded, in-process Store (the default when no Redis URL is given).
//
// Same semantics as the Redis store (one conformance suite runs against both): queues are lists
// pushed at the front and consumed from the back (LPUSH/RPOP), sorted sets order ties by member
// bytes like Redis, process hashes and key-value keys expire (checked lazily on access), each
// identity owns in-progress lists, and fetch blocks on a condition variable.
// Nothing survives the process: graceful stop requeues in memory, a crash loses the contents.
//
// Thread-safety: fully thread-safe (one mutex; fetch waits on a condition variable).
#pragma once

#include <memory>

#include "kiq/store.hpp"

namespace kiq {

class MemoryStore : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;

  void push(std::string_view queue, std::span<const std::string> payloads) override;
  void schedule(std::span<const ScoredPayload> jobs) override;

  std::vector<FetchedJob> fetch(std::string_view identity, std::span<const std::string> queues,
                                std::size_t max, std::chrono::milliseconds timeout) override;
  void ack(std::string_view identity, const FetchedJob& job) override;
  void ack_and_retry(std::string_view identity, const FetchedJob& job, double at,
                     std::string_view payload) override;
  void ack_and_kill(std::string_view identity, const FetchedJob& job, double now,
                    std::string_view payload, const DeadSetLimits& limits) override;
  void requeue(std::string_view identity, std::span<const FetchedJob> jobs) override;
  std::vector<FetchedJob> in_progress(std::string_view identity) override;
  std::size_t recover_orphans() override;
  std::size_t recover(std::string_view identity) override;

  std::vector<std::string> pop_due(std::string_view identity, SortedSetName set, double now,
                                   std::size_t limit) override;
  void complete_claims(std::string_view identity, SortedSetName set,
                       std::span<const std::string> members) override;
  std::size_t restore_claims(std::string_view identity) override;

  void add(SortedSetName set, double score, std::string_view payload) override;
  std::int64_t size(SortedSetName set) override;
  std::vector<ScoredPayload> range(SortedSetName set, std::int64_t offset, std::int64_t count,
                                   bool reverse = false) override;
  std::optional<ScoredPayload> take(SortedSetName set, std::string_view jid) override;
  std::int64_t clear(SortedSetName set) override;
  void trim_dead(double now, const DeadSetLimits& limits) override;

  std::vector<QueueSummary> queues(double now) override;
  std::int64_t queue_size(std::string_view queue) override;
  std::vector<std::string> queue_range(std::string_view queue, std::int64_t offset,
                                       std::int64_t count) override;
  std::int64_t clear_queue(std::string_view queue) override;

  std::optional<std::string> heartbeat(const ProcessBeat& beat) override;
  void remove_process(std::string_view identity) override;
  std::vector<ProcessRecord> processes() override;
  std::vector<WorkRecord> work() override;
  void signal(std::string_view identity, std::string_view signal) override;
  StoreStats stats(double now) override;

  KeyValue& kv() override;
  std::int64_t ping_us() override { return 0; }
  std::string describe() const override { return "memory://"; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiq
