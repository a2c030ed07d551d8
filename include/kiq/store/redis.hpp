// RedisStore: kiq::Store on Redis through hiredis, with Ruby Sidekiq's keys and formats
// (see store.hpp and the protocol notes), plus kiq's reliable-fetch bookkeeping:
//
//   kiq:inprogress                    SET   identities that own in-progress jobs or claims
//   kiq:inprogress|<identity>         SET   queue names with in-progress jobs of identity
//   kiq:inprogress|<identity>|<queue> HASH  fetch number -> job, fetched by identity from
//                                           queue:<queue> and not acked
//   kiq:seq|<identity>                STRING the fetch-number counter of identity
//
// Ruby's BasicFetch never reads these keys. Every move between a queue, an in-progress hash and
// a sorted set is one atomic Lua script or MULTI/EXEC, so a crash between two calls loses nothing.
// A fetched job's number is its FetchedJob::token: an ack deletes one small field (HDEL), and the
// numbers give recovery the fetch order back. (In-progress LISTs of older kiq versions are still
// recovered.)
//
// ack() uses group commit: acks arriving while another thread is sending are sent together in
// the next pipeline (one HDEL per in-progress hash), so N worker threads acking at once cost one
// round trip and one command, not N.
//
// Connections: a small pool of synchronous hiredis connections with connect/command timeouts.
// A pooled connection found dead (e.g. Redis restarted while it idled) is replaced and the
// operation retried once, so a restart between operations is invisible. When Redis cannot be
// reached, reconnects back off exponentially (min_backoff .. max_backoff) and operations throw
// kiq::StoreError quickly instead of hanging; the outage is logged once when it starts and once
// when Redis is back. AUTH and SELECT run on every connect.
//
// Scheduled poller claims (unlike Sidekiq's poller, a crash or a lost reply after pop_due loses
// nothing):
//   kiq:claims|<identity>|<set>       HASH  member -> original score, popped by identity's poller
//                                           from <set> (schedule/retry/dead) and not yet handed on
// pop_due fills it in the same Lua script that removes the members (and adds identity to
// kiq:inprogress, so orphan recovery finds it without SCAN); complete_claims is one HDEL; the
// recovery script ZADDs claims back with their scores in the same atomic step as the job lists.
// A hash (not a list) makes completion one command; members of one set are unique anyway.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kiq/store.hpp"

struct redisContext;  // hiredis, kept out of this header's users

namespace kiq {

// Parsed form of redis://[[user]:password@]host[:port][/db] or unix:///path.sock[?db=N]
// (also redis+unix:// or redis://host?db=N). rediss:// is rejected: no TLS in this hiredis.
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  // non-empty = unix socket instead of host:port
  int db = 0;
  std::string user;       // Redis 6 ACL user; empty = plain AUTH <password>
  std::string password;   // empty = no AUTH

  // "redis://host:port/db" or "unix:///path?db=N"; never the password.
  std::string describe() const;
};  // RedisUrl, RedisOptions, RedisReply: plain values (thread-safety of any std value type).

// Throws std::invalid_argument naming the problem (scheme, port, db, empty host, ...).
RedisUrl parse_redis_url(std::string_view url);

struct RedisOptions {
  std::size_t pool_size = 8;                             // connections (>= 1)
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};       // blocking waits are cut to fit
  std::chrono::milliseconds lease_timeout{10000};        // wait for a free pooled connection
  std::chrono::milliseconds min_backoff{100};            // reconnect backoff after a failure
  std::chrono::milliseconds max_backoff{5000};
  // fetch() on several empty queues: block on the first queue at most this long per round,
  // then look at all of them again (Lua cannot block; BLMOVE takes one source list).
  std::chrono::milliseconds idle_poll{100};
};

// One reply of Redis (RESP2), owned.
struct RedisReply {
  enum class Type { kNil, kStatus, kError, kInteger, kString, kArray };
  Type type = Type::kNil;
  std::int64_t integer = 0;        // kInteger
  std::string str;                 // kStatus, kError, kString
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  // Throws kiq::StoreError with the Redis error text if this is an error reply.
  const RedisReply& check() const;
};

class RedisPool;

// A leased connection (see RedisStore::with_connection). Error replies are returned, not
// thrown (use RedisReply::check()); transport failures (connection lost, timeout) throw
// kiq::StoreError and retire the connection.
//
// Thread-safety: not thread-safe; used by the one thread holding the lease.
class RedisConnection {
 public:
  RedisConnection(RedisPool& pool, std::uint64_t generation, redisContext* context);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  RedisReply command(std::initializer_list<std::string_view> argv);
  RedisReply command(std::span<const std::string> argv);
  // Sends all commands, then reads all replies: one round trip.
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands);

  // Hand-made pipelining: append() queues commands, then read_reply() once per command, in
  // order. Every appended command must have its reply read before the lease ends.
  void append(std::span<const std::string> argv);
  void append(std::initializer_list<std::string_view> argv);
  // Sends one command that the caller wrote in RESP form, at once (after anything appended
  // before it); its reply is read with read_reply() like an appended command's. For big
  // commands (push_bulk's LPUSH of 1000 jobs): it skips hiredis's two copies into fresh
  // buffers and lets Redis start on it while the caller prepares the next one.
  // `resp` may hold several commands (`commands` of them): read one reply for each.
  void send_formatted(std::string_view resp, std::size_t commands = 1);
  RedisReply read_reply();

  // Pool bookkeeping: a broken connection (transport error, or replies left unread) is closed
  // instead of reused.
  bool broken() const { return broken_ || pending_ != 0; }
  std::uint64_t generation() const { return generation_; }
  void mark_used() { used_before_ = true; }

 private:
  void append_argv(int argc, const char** argv, const std::size_t* lens);
  [[noreturn]] void fail(const char* what);

  RedisPool& pool_;
  std::uint64_t generation_;
  redisContext* context_;
  bool broken_ = false;
  bool used_before_ = false;  // returned to the pool at least once
  std::size_t pending_ = 0;   // commands sent whose replies were not read yet
  bool answered_ = false;     // has read at least one reply
};

class RedisKeyValue;
struct RedisScripts;
class RedisAckBatcher;

// Thread-safety: every method may be called concurrently from any thread (the pool hands each
// call its own connection).
class RedisStore final : public Store {
 public:
  // Does not connect yet: the first operation does (so a server can start while Redis is down
  // and retry). Throws std::invalid_argument for bad options.
  explicit RedisStore(RedisUrl url, RedisOptions options = {});
  ~RedisStore() override;

  void push(std::string_view queue, std::span<const std::string> payloads) override;
  void push_batches(std::string_view queue,
                    const std::function<bool(std::vector<std::string>&)>& next_batch) override;
  void schedule(std::span<const ScoredPayload> jobs) override;

  std::vector<FetchedJob> fetch(std::string_view identity, std::span<const std::string> queues,
                                std::size_t max, std::chrono::milliseconds timeout) override;
  void ack(std::string_view identity, const FetchedJob& job) override;
  void ack_many(std::string_view identity, std::span<const FetchedJob> jobs) override;
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
  std::int64_t ping_us() override;
  std::string describe() const override;

  // Runs f on a pooled connection (Sidekiq.redis { |c| ... } for job code) and returns its
  // result. The connection must not escape f.
  //   store.with_connection([](RedisConnection& c) { c.command({"SETEX", "k", "3600", "v"}); });
  template <class F>
  auto with_connection(F&& f) -> std::invoke_result_t<F&, RedisConnection&> {
    using R = std::invoke_result_t<F&, RedisConnection&>;
    if constexpr (std::is_void_v<R>) {
      run_with_connection([&](RedisConnection& c) { f(c); });
    } else {
      std::optional<R> out;
      run_with_connection([&](RedisConnection& c) { out.emplace(f(c)); });
      return std::move(*out);
    }
  }

 private:
  void run_with_connection(const std::function<void(RedisConnection&)>& f);
  // The job's field in its in-progress hash: its token, or (made by hand) looked up by payload.
  std::string field_of(RedisConnection& c, std::string_view identity, const FetchedJob& job);

  RedisUrl url_;
  RedisOptions options_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisKeyValue> kv_;
  std::unique_ptr<RedisScripts> scripts_;  // Lua sources + cached SHAs (per store: no globals)
  std::unique_ptr<RedisAckBatcher> acks_;  // group commit of concurrent ack() calls
  std::atomic<bool> no_blmove_{false};     // Redis < 6.2: fetch polls instead of BLMOVE waits
};

// make_redis_store(url, options): parse_redis_url + RedisStore.
std::shared_ptr<RedisStore> make_redis_store(std::string_view url, RedisOptions options = {});

}  // namespace kiq
