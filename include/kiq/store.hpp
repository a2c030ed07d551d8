// Store: the narrow, semantic persistence interface behind kiq's client and server.
//
// Two implementations behave identically (one conformance suite runs against both):
//   * MemoryStore — the embedded default, in-process (store/memory).
//   * RedisStore  — Ruby Sidekiq's Redis keys and formats exactly (store/redis), so Sidekiq's
//                   API and Web UI see what kiq does.
// Payloads are Sidekiq job-hash JSON strings; the store never parses them except where noted
// (the jid inside sorted-set members, for lookups). Times are epoch seconds (double).
//
// Errors: operations that cannot reach the backend throw kiq::StoreError; nothing is silently
// dropped.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiq {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The three sorted sets of Sidekiq (Redis keys "schedule", "retry", "dead").
enum class SortedSetName { kSchedule, kRetry, kDead };

struct ScoredPayload {
  double score = 0;       // run-at (schedule/retry) or time of death (dead), epoch seconds
  std::string payload;    // job JSON
};

// A job taken by reliable fetch. It stays in its owner's in-progress list until acknowledged.
struct FetchedJob {
  std::string queue;      // queue name without the "queue:" prefix
  std::string payload;    // the exact JSON string taken from the queue
  // The store's own handle on this in-progress entry, set by fetch() and in_progress() (Redis:
  // its field in the in-progress hash, so an ack names ~10 bytes instead of the payload).
  // Empty for a job made by hand: the store then finds the entry by queue and payload.
  std::string token;
};

struct DeadSetLimits {
  double max_age_seconds = 15552000;  // 180 days
  std::int64_t max_jobs = 10000;
};

struct QueueSummary {
  std::string name;
  std::int64_t size = 0;
  double latency_seconds = 0;  // now - enqueued_at of the oldest job; 0 when empty
};

struct StoreStats {
  std::int64_t processed = 0;
  std::int64_t failed = 0;
  std::int64_t scheduled_size = 0;
  std::int64_t retry_size = 0;
  std::int64_t dead_size = 0;
  std::int64_t processes_size = 0;
  std::int64_t enqueued = 0;  // sum of all queue sizes
  std::int64_t busy = 0;      // sum of live processes' busy counts
};

// One heartbeat of a server process (Sidekiq's Launcher#heartbeat).
struct ProcessBeat {
  std::string identity;      // "host:pid:nonce12hex"
  std::string info_json;     // Sidekiq's `info` JSON (hostname, started_at, pid, tag, ...)
  std::int64_t busy = 0;
  double beat = 0;           // epoch seconds
  bool quiet = false;
  std::int64_t rss_kb = 0;
  std::int64_t rtt_us = 0;
  // tid -> {"queue":..,"payload":"<job JSON string>","run_at":<int>} for each running job.
  std::vector<std::pair<std::string, std::string>> work;
  // Counters since the previous successful beat; added to stat:* and stat:*:<utc_date>.
  std::int64_t processed_delta = 0;
  std::int64_t failed_delta = 0;
  std::string utc_date;      // "YYYY-MM-DD" for the daily counters
  std::chrono::seconds ttl{60};
};

struct ProcessRecord {
  std::string identity;
  std::string info_json;
  std::int64_t busy = 0;
  double beat = 0;
  bool quiet = false;
  std::int64_t rss_kb = 0;
  std::int64_t rtt_us = 0;
};

struct WorkRecord {
  std::string identity;
  std::string tid;
  std::string work_json;  // {"queue":..,"payload":"..","run_at":..}
};

// Small key-value facility that job code may use (Sidekiq jobs use `Sidekiq.redis` for this).
// On Redis these are plain Redis commands on plain keys; on memory, the same semantics.
class KeyValue {
 public:
  virtual ~KeyValue() = default;
  // The longest TTL kept; a longer one (e.g. seconds::max() for "until deleted") is stored as
  // this, which both stores can represent (Redis refuses expiry times past its range).
  static constexpr std::chrono::seconds kMaxTtl{100LL * 365 * 24 * 3600};
  // SET key value [EX ttl]; ttl 0 = no expiry; ttl is capped at kMaxTtl.
  virtual void set(std::string_view key, std::string_view value,
                   std::chrono::seconds ttl = std::chrono::seconds(0)) = 0;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  virtual bool del(std::string_view key) = 0;
  // Remaining TTL in seconds: -1 no expiry, -2 no such key (Redis TTL semantics).
  virtual std::int64_t ttl(std::string_view key) = 0;
  virtual std::int64_t incr(std::string_view key, std::int64_t by = 1) = 0;
  // Sets: SADD (returns true if added), SISMEMBER, SCARD, SMEMBERS.
  virtual bool sadd(std::string_view key, std::string_view member) = 0;
  virtual bool sismember(std::string_view key, std::string_view member) = 0;
  virtual std::int64_t scard(std::string_view key) = 0;
  virtual std::vector<std::string> smembers(std::string_view key) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- client side -------------------------------------------------------------------------
  // SADD queues <queue>; LPUSH queue:<queue> payloads... (payloads already carry enqueued_at).
  virtual void push(std::string_view queue, std::span<const std::string> payloads) = 0;
  // push() of several batches to one queue (push_bulk): next_batch replaces the contents of
  // `batch` with the next batch's payloads and returns true, or returns false when there is
  // nothing left. `batch` may still hold an earlier batch (so that its strings' memory is
  // reused: resize it, then assign each element). Each batch is one LPUSH; batches land in
  // order. The Redis store pipelines them (the next batch is built while Redis stores the
  // previous one; no round trip is waited for per batch); the default calls push() per batch.
  // An exception (from next_batch or the store) stops the push: batches before it may have
  // been pushed.
  virtual void push_batches(std::string_view queue,
                            const std::function<bool(std::vector<std::string>&)>& next_batch) {
    std::vector<std::string> batch;
    while (next_batch(batch)) {
      if (!batch.empty()) push(queue, batch);
    }
  }
  // ZADD schedule score payload ... (payloads carry no "at").
  virtual void schedule(std::span<const ScoredPayload> jobs) = 0;

  // ---- reliable fetch ----------------------------------------------------------------------
  // Atomically moves up to `max` jobs from the first non-empty queue(s), in the given order,
  // into `identity`'s in-progress list; waits up to `timeout` when all are empty.
  virtual std::vector<FetchedJob> fetch(std::string_view identity,
                                        std::span<const std::string> queues, std::size_t max,
                                        std::chrono::milliseconds timeout) = 0;
  // Removes the job from the in-progress list (success, or handed on by the calls below).
  virtual void ack(std::string_view identity, const FetchedJob& job) = 0;
  // ack() for several jobs; Redis pipelines them (one round trip). Default: one by one.
  virtual void ack_many(std::string_view identity, std::span<const FetchedJob> jobs) {
    for (const auto& job : jobs) ack(identity, job);
  }
  // Atomically: ack + ZADD retry at payload.
  virtual void ack_and_retry(std::string_view identity, const FetchedJob& job, double at,
                             std::string_view payload) = 0;
  // Atomically: ack + ZADD dead now payload + trim by age and size.
  virtual void ack_and_kill(std::string_view identity, const FetchedJob& job, double now,
                            std::string_view payload, const DeadSetLimits& limits) = 0;
  // Puts in-progress jobs back at the consumer end of their queues (RPUSH) and acks them.
  virtual void requeue(std::string_view identity, std::span<const FetchedJob> jobs) = 0;
  // Jobs still in `identity`'s in-progress lists (all queues).
  virtual std::vector<FetchedJob> in_progress(std::string_view identity) = 0;
  // For every identity owning in-progress jobs or claims (see pop_due) whose process hash is
  // gone (heartbeat expired), moves its jobs back to the front of their queues and its claimed
  // members back into their sorted sets, atomically per identity. Returns the number of jobs
  // recovered (both kinds).
  virtual std::size_t recover_orphans() = 0;
  // Same, for one identity regardless of liveness (a restarted process reclaiming its own).
  virtual std::size_t recover(std::string_view identity) = 0;

  // ---- scheduled poller: claim, then complete ----------------------------------------------
  // Atomically removes up to `limit` members with score <= now, lowest score first, and records
  // each as claimed by `identity` (with its set and original score), so a crash or a lost reply
  // between this call and the hand-on loses nothing: recover()/recover_orphans() or
  // restore_claims() put claimed members back. Throws std::invalid_argument for an empty identity.
  virtual std::vector<std::string> pop_due(std::string_view identity, SortedSetName set,
                                           double now, std::size_t limit) = 0;
  // Forgets `identity`'s claims on `members` of `set` once they have been handed on (pushed to
  // their queue or buried in the dead set). Unknown members are ignored. One round trip.
  virtual void complete_claims(std::string_view identity, SortedSetName set,
                               std::span<const std::string> members) = 0;
  // Puts all of `identity`'s claimed members back into their sets with their original scores
  // (atomically) and forgets the claims; returns how many. For a live poller whose previous
  // round failed between pop_due and complete_claims (only safe while that identity has no
  // batch in flight).
  virtual std::size_t restore_claims(std::string_view identity) = 0;

  // ---- sorted-set administration (CLI, dashboard, Sidekiq Web UI parity) -------------------
  virtual void add(SortedSetName set, double score, std::string_view payload) = 0;
  virtual std::int64_t size(SortedSetName set) = 0;
  // Ascending by score (schedule/retry order); `reverse` = newest first (dead-set order).
  virtual std::vector<ScoredPayload> range(SortedSetName set, std::int64_t offset,
                                           std::int64_t count, bool reverse = false) = 0;
  // Finds the member whose payload has "jid" == jid; removes it and returns it.
  virtual std::optional<ScoredPayload> take(SortedSetName set, std::string_view jid) = 0;
  virtual std::int64_t clear(SortedSetName set) = 0;
  virtual void trim_dead(double now, const DeadSetLimits& limits) = 0;

  // ---- queues ------------------------------------------------------------------------------
  virtual std::vector<QueueSummary> queues(double now) = 0;
  virtual std::int64_t queue_size(std::string_view queue) = 0;
  // LRANGE queue:<q> offset offset+count-1 (index 0 = newest).
  virtual std::vector<std::string> queue_range(std::string_view queue, std::int64_t offset,
                                               std::int64_t count) = 0;
  // UNLINK queue:<q>; SREM queues <q>. Returns the number of jobs removed.
  virtual std::int64_t clear_queue(std::string_view queue) = 0;

  // ---- processes, heartbeat, stats ---------------------------------------------------------
  // Writes stats deltas, work, the process hash (with TTL) and membership in `processes`;
  // returns a signal pushed to <identity>-signals ("TSTP", "TERM", ...) if one was waiting.
  virtual std::optional<std::string> heartbeat(const ProcessBeat& beat) = 0;
  // SREM processes <identity>; delete <identity> and <identity>:work.
  virtual void remove_process(std::string_view identity) = 0;
  // Live processes (prunes identities whose hash expired, as Sidekiq's ProcessSet does).
  virtual std::vector<ProcessRecord> processes() = 0;
  virtual std::vector<WorkRecord> work() = 0;
  // LPUSH <identity>-signals signal; EXPIRE 60 (what the Web UI's Quiet/Stop buttons do).
  virtual void signal(std::string_view identity, std::string_view signal) = 0;
  virtual StoreStats stats(double now) = 0;

  // ---- job-code facilities -----------------------------------------------------------------
  virtual KeyValue& kv() = 0;
  // Latency of one round trip, in microseconds (Redis PING; ~0 for memory).
  virtual std::int64_t ping_us() = 0;
  // "redis://host:port/db" or "memory://"; never includes a password.
  virtual std::string describe() const = 0;
};

// Opens a store from a URL: "redis://[:password@]host:port[/db]" (also rediss is rejected with a
// clear error: no TLS in this hiredis), "memory://" or empty -> a new MemoryStore.
// Throws std::invalid_argument for a malformed URL.
std::shared_ptr<Store> open_store(std::string_view url);

}  // namespace kiq
