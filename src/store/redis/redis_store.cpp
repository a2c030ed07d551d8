#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <stdexcept>
#include <thread>

#include "kiq/store/redis.hpp"
#include "store/redis/ack_batcher.hpp"
#include "store/redis/key_value.hpp"
#include "store/redis/keys.hpp"
#include "store/redis/pool.hpp"
#include "store/redis/scripts.hpp"
#include "util/deadline.hpp"

namespace kiq {
namespace keys = redis_keys;
namespace {

using Clock = std::chrono::steady_clock;
using Command = std::vector<std::string>;

// Shortest representation that round-trips: scores keep full double precision.
std::string score_str(double v) { return fmt::format("{}", v); }

std::int64_t to_int(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  if (r.type == RedisReply::Type::kString) return std::strtoll(r.str.c_str(), nullptr, 10);
  return 0;
}

double to_double(const RedisReply& r) {
  if (r.type == RedisReply::Type::kString) return std::strtod(r.str.c_str(), nullptr);
  if (r.type == RedisReply::Type::kInteger) return static_cast<double>(r.integer);
  return 0;
}

// Sends MULTI, commands, EXEC in one round trip; returns EXEC's replies (errors throw).
std::vector<RedisReply> transaction(RedisConnection& c, const std::vector<Command>& commands) {
  c.append({"MULTI"});
  for (const auto& cmd : commands) c.append(cmd);
  c.append({"EXEC"});
  std::string queue_error;
  c.read_reply();  // +OK
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto r = c.read_reply();  // +QUEUED, or an error for a malformed command
    if (r.is_error() && queue_error.empty()) queue_error = r.str;
  }
  auto exec = c.read_reply();
  if (!queue_error.empty()) throw StoreError("redis error: " + queue_error);
  exec.check();
  if (exec.type != RedisReply::Type::kArray) throw StoreError("redis: transaction aborted");
  for (const auto& r : exec.elements) r.check();
  return std::move(exec.elements);
}

std::vector<RedisReply> pipeline_checked(RedisConnection& c, const std::vector<Command>& commands) {
  auto replies = c.pipeline(commands);
  for (const auto& r : replies) r.check();
  return replies;
}

// The fetch script's groups [queue, first field, n, payload x n, ...]; takes the reply's
// strings (no copies of the payloads).
std::vector<FetchedJob> to_jobs(RedisReply flat) {
  std::vector<FetchedJob> jobs;
  auto& e = flat.elements;
  jobs.reserve(e.size());
  for (std::size_t i = 0; i < e.size();) {
    if (i + 2 >= e.size() || e[i + 1].type != RedisReply::Type::kInteger ||
        e[i + 2].type != RedisReply::Type::kInteger || e[i + 2].integer < 0 ||
        static_cast<std::uint64_t>(e[i + 2].integer) > e.size() - i - 3) {
      throw StoreError("redis: malformed reply of the fetch script");
    }
    const std::string& queue = e[i].str;
    const std::int64_t first = e[i + 1].integer;
    const auto n = static_cast<std::size_t>(e[i + 2].integer);
    for (std::size_t k = 0; k < n; ++k)
      jobs.push_back({queue, std::move(e[i + 3 + k].str), std::to_string(first + static_cast<std::int64_t>(k))});
    i += 3 + n;
  }
  return jobs;
}

// Fields of an in-progress hash in fetch order (decimal numbers: shorter is smaller).
bool fetched_before(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::vector<ScoredPayload> to_scored(const RedisReply& withscores) {
  std::vector<ScoredPayload> out;
  out.reserve(withscores.elements.size() / 2);
  for (std::size_t i = 0; i + 1 < withscores.elements.size(); i += 2) {
    out.push_back({to_double(withscores.elements[i + 1]), withscores.elements[i].str});
  }
  return out;
}

Command dead_trim_by_age(double now, const DeadSetLimits& limits) {
  return {"ZREMRANGEBYSCORE", "dead", "-inf", score_str(now - limits.max_age_seconds)};
}

// Sidekiq's exact command: ZREMRANGEBYRANK dead 0 -max_jobs (keeps max_jobs - 1 once full).
void add_dead_trims(std::vector<Command>& cmds, double now, const DeadSetLimits& limits) {
  cmds.push_back(dead_trim_by_age(now, limits));
  if (limits.max_jobs > 0) {
    cmds.push_back({"ZREMRANGEBYRANK", "dead", "0", std::to_string(-limits.max_jobs)});
  }
}

// Glob-escapes a jid for ZSCAN MATCH.
std::string glob_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

bool payload_has_jid(const std::string& payload, std::string_view jid) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto it = j.find("jid");
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == jid;
}

// now - enqueued_at of the oldest job (index -1); 0 when absent or unparsable.
double latency_of(const RedisReply& oldest, double now) {
  if (oldest.type != RedisReply::Type::kString) return 0;
  auto j = nlohmann::json::parse(oldest.str, nullptr, false);
  if (!j.is_object()) return 0;
  auto it = j.find("enqueued_at");
  if (it == j.end() || !it->is_number()) return 0;
  return now - it->get<double>();
}

std::vector<std::string> sorted_strings(const RedisReply& r) {
  std::vector<std::string> out;
  for (const auto& e : r.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

RedisStore::RedisStore(RedisUrl url, RedisOptions options)
    : url_(std::move(url)),
      options_(options),
      pool_(std::make_unique<RedisPool>(url_, options_)),
      kv_(std::make_unique<RedisKeyValue>(*pool_)),
      scripts_(std::make_unique<RedisScripts>()),
      acks_(std::make_unique<RedisAckBatcher>(*pool_)) {}

RedisStore::~RedisStore() = default;

void RedisStore::run_with_connection(const std::function<void(RedisConnection&)>& f) {
  auto c = pool_->lease();
  f(*c);
}

std::string RedisStore::describe() const { return url_.describe(); }

KeyValue& RedisStore::kv() { return *kv_; }

std::int64_t RedisStore::ping_us() {
  return pool_->run([&](RedisPool::Lease& c) -> std::int64_t {
    const auto start = Clock::now();
    c->command({"PING"}).check();
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  });
}

// ---- client side ------------------------------------------------------------------------------

namespace {
void append_bulk_string(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

// LPUSH queue:<q> payloads... in RESP form into `out` (cleared; its capacity is reused from
// batch to batch, so big batches do not fault in fresh pages each time).
void format_lpush(std::string& out, std::string_view key, std::span<const std::string> payloads) {
  std::size_t size = 32 + key.size();
  for (const auto& p : payloads) size += p.size() + 16;
  out.clear();
  out.reserve(size);
  out += '*';
  out += std::to_string(2 + payloads.size());
  out += "\r\n";
  append_bulk_string(out, "LPUSH");
  append_bulk_string(out, key);
  for (const auto& p : payloads) append_bulk_string(out, p);
}
}  // namespace

void RedisStore::push(std::string_view queue, std::span<const std::string> payloads) {
  if (payloads.empty()) return;
  if (queue.empty()) throw std::invalid_argument("push: empty queue name");
  const std::string key = keys::queue(queue);
  return pool_->run([&](RedisPool::Lease& c) -> void {
    // One pipeline, like Sidekiq's raw_push (not a transaction).
    c->append({"SADD", keys::kQueues, queue});
    std::string lpush;
    format_lpush(lpush, key, payloads);
    c->send_formatted(lpush);
    auto added = c->read_reply();
    auto pushed = c->read_reply();
    added.check();
    pushed.check();
  });
}

void RedisStore::push_batches(std::string_view queue,
                              const std::function<bool(std::vector<std::string>&)>& next_batch) {
  if (queue.empty()) throw std::invalid_argument("push: empty queue name");
  const std::string key = keys::queue(queue);
  // Batches Redis may still be storing while the next is built: more than one, so that Redis
  // does not run dry when this thread is descheduled for a moment on a busy machine.
  constexpr std::size_t kInFlight = 3;
  // Batches sent whose reply is unread (at most kInFlight + 1): sent again if run() retries
  // on a fresh connection because the leased one was found dead.
  std::deque<std::vector<std::string>> unconfirmed;
  std::vector<std::string> spare;  // a confirmed batch, handed back to next_batch for reuse
  bool exhausted = false;
  bool confirmed_any = false;
  std::string lpush;
  auto send = [&](RedisConnection& c, const std::vector<std::string>& batch) {
    format_lpush(lpush, key, batch);
    c.send_formatted(lpush);
  };
  pool_->run([&](RedisPool::Lease& c) -> void {
    try {
      c->append({"SADD", keys::kQueues, queue});
      for (const auto& batch : unconfirmed) send(*c, batch);
      bool sadd_unread = true;
      for (;;) {
        std::vector<std::string> batch = std::move(spare);
        spare.clear();
        if (!exhausted) exhausted = !next_batch(batch);
        if (!exhausted && !batch.empty()) {
          unconfirmed.push_back(std::move(batch));  // first: a failed send is sent again
          send(*c, unconfirmed.back());
        }
        // The newest batches stay in flight: Redis stores them while next_batch builds more.
        // SADD's reply is read at once (the first batch went out with it): it proves the
        // connection alive before Redis can have stored a batch whose reply is still unread.
        const std::size_t keep = exhausted ? 0 : kInFlight;
        while (sadd_unread || unconfirmed.size() > keep) {
          c->read_reply().check();
          confirmed_any = true;
          if (sadd_unread) {
            sadd_unread = false;
          } else {
            spare = std::move(unconfirmed.front());
            unconfirmed.pop_front();
          }
        }
        if (exhausted) return;
      }
    } catch (const RedisTransportError& e) {
      // run() retries on a fresh connection only if the leased one was dead from the start;
      // once Redis has answered, a retry could push the unconfirmed batches twice.
      if (confirmed_any) throw StoreError(e.what());
      throw;
    }
  });
}

void RedisStore::schedule(std::span<const ScoredPayload> jobs) {
  if (jobs.empty()) return;
  Command zadd{"ZADD", "schedule"};
  zadd.reserve(2 + 2 * jobs.size());
  for (const auto& j : jobs) {
    zadd.push_back(score_str(j.score));
    zadd.push_back(j.payload);
  }
  return pool_->run([&](RedisPool::Lease& c) -> void {
    c->command(zadd).check();
  });
}

// ---- reliable fetch ---------------------------------------------------------------------------

std::vector<FetchedJob> RedisStore::fetch(std::string_view identity,
                                          std::span<const std::string> queues, std::size_t max,
                                          std::chrono::milliseconds timeout) {
  if (queues.empty() || max == 0) return {};
  Command args{std::string(identity), std::to_string(max)};
  args.insert(args.end(), queues.begin(), queues.end());
  const auto deadline = util::deadline_after(timeout);
  // Blocking waits must end well before the command timeout cuts the connection.
  const auto block_cap = std::max(std::chrono::milliseconds(1), options_.command_timeout / 2);
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<FetchedJob> {
    for (;;) {
      auto jobs = to_jobs(scripts_->fetch.run(*c, args));
      if (!jobs.empty()) return jobs;
      const auto left = util::time_left(deadline);
      if (left.count() <= 0) return {};
      // Lua cannot block: wait on the first queue (woken at once by a push), briefly when other
      // queues must be looked at too, then fetch again. The wait takes nothing: BLMOVE from the
      // queue's consumer end back to the same end leaves the queue as it was.
      auto wait = std::min({left, block_cap, queues.size() == 1 ? left : options_.idle_poll});
      const std::string q = keys::queue(queues.front());
      if (no_blmove_.load(std::memory_order_relaxed)) {
        // Redis < 6.2: no way to wait without moving the job; look again shortly.
        std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(20)));
        continue;
      }
      auto got = c->command({"BLMOVE", q, q, "RIGHT", "RIGHT",
                             fmt::format("{:.3f}", std::chrono::duration<double>(wait).count())});
      if (got.is_error() && got.str.find("unknown command") != std::string::npos) {
        no_blmove_.store(true, std::memory_order_relaxed);
        continue;
      }
      got.check();
    }
  });
}

std::string RedisStore::field_of(RedisConnection& c, std::string_view identity, const FetchedJob& job) {
  if (!job.token.empty()) return job.token;
  // A job made by hand: the entry with its payload (none: an empty field, which HDEL ignores).
  auto r = scripts_->find_field.run(c, {std::string(identity), job.queue, job.payload});
  return r.type == RedisReply::Type::kString ? r.str : std::string();
}

void RedisStore::ack(std::string_view identity, const FetchedJob& job) {
  if (!job.token.empty()) return acks_->ack(identity, job.queue, job.token);
  return pool_->run([&](RedisPool::Lease& c) -> void {
    c->command({"HDEL", keys::in_progress(identity, job.queue), field_of(*c, identity, job)}).check();
  });
}

void RedisStore::ack_many(std::string_view identity, std::span<const FetchedJob> jobs) {
  if (jobs.empty()) return;
  return pool_->run([&](RedisPool::Lease& c) -> void {
    std::vector<std::string> fields;
    fields.reserve(jobs.size());
    for (const auto& job : jobs) fields.push_back(field_of(*c, identity, job));
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      c->append({"HDEL", keys::in_progress(identity, jobs[i].queue), fields[i]});
    }
    std::string error;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      auto r = c->read_reply();  // read every reply even after an error, to keep the stream in sync
      if (r.is_error() && error.empty()) error = r.str;
    }
    if (!error.empty()) throw StoreError("redis error: " + error);
  });
}

void RedisStore::ack_and_retry(std::string_view identity, const FetchedJob& job, double at,
                               std::string_view payload) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    transaction(*c, {{"HDEL", keys::in_progress(identity, job.queue), field_of(*c, identity, job)},
                     {"ZADD", "retry", score_str(at), std::string(payload)}});
  });
}

void RedisStore::ack_and_kill(std::string_view identity, const FetchedJob& job, double now,
                              std::string_view payload, const DeadSetLimits& limits) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    std::vector<Command> cmds{{"HDEL", keys::in_progress(identity, job.queue), field_of(*c, identity, job)},
                              {"ZADD", "dead", score_str(now), std::string(payload)}};
    add_dead_trims(cmds, now, limits);
    transaction(*c, cmds);
  });
}

void RedisStore::requeue(std::string_view identity, std::span<const FetchedJob> jobs) {
  if (jobs.empty()) return;
  Command args{std::string(identity)};
  args.reserve(1 + 3 * jobs.size());
  for (const auto& j : jobs) {
    args.push_back(j.queue);
    args.push_back(j.token);
    args.push_back(j.payload);
  }
  return pool_->run([&](RedisPool::Lease& c) -> void {
    scripts_->requeue.run(*c, args);
  });
}

std::vector<FetchedJob> RedisStore::in_progress(std::string_view identity) {
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<FetchedJob> {
    auto queues = sorted_strings(c->command({"SMEMBERS", keys::in_progress_queues(identity)}).check());
    std::vector<Command> cmds;
    for (const auto& q : queues) cmds.push_back({"HGETALL", keys::in_progress(identity, q)});
    auto hashes = pipeline_checked(*c, cmds);
    std::vector<FetchedJob> out;
    for (std::size_t i = 0; i < queues.size(); ++i) {
      auto& kv = hashes[i].elements;
      std::vector<FetchedJob> jobs;
      jobs.reserve(kv.size() / 2);
      for (std::size_t k = 0; k + 1 < kv.size(); k += 2)
        jobs.push_back({queues[i], std::move(kv[k + 1].str), std::move(kv[k].str)});
      // Oldest fetched first.
      std::sort(jobs.begin(), jobs.end(),
                [](const FetchedJob& a, const FetchedJob& b) { return fetched_before(a.token, b.token); });
      out.insert(out.end(), std::make_move_iterator(jobs.begin()), std::make_move_iterator(jobs.end()));
    }
    return out;
  });
}

std::size_t RedisStore::recover_orphans() {
  return pool_->run([&](RedisPool::Lease& c) -> std::size_t {
    auto owners = c->command({"SMEMBERS", keys::kInProgressOwners}).check();
    std::size_t total = 0;
    for (const auto& id : owners.elements) {
      auto n = scripts_->recover.run(*c, {id.str, "1"});
      if (n.integer > 0) total += static_cast<std::size_t>(n.integer);
    }
    return total;
  });
}

std::size_t RedisStore::recover(std::string_view identity) {
  return pool_->run([&](RedisPool::Lease& c) -> std::size_t {
    auto n = scripts_->recover.run(*c, {std::string(identity), "0"});
    return n.integer > 0 ? static_cast<std::size_t>(n.integer) : 0;
  });
}

// ---- scheduled poller -------------------------------------------------------------------------

std::vector<std::string> RedisStore::pop_due(std::string_view identity, SortedSetName set,
                                             double now, std::size_t limit) {
  if (identity.empty()) throw std::invalid_argument("pop_due: empty identity");
  if (limit == 0) return {};
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<std::string> {
    auto r = scripts_->pop_due.run(
        *c, {std::string(identity), keys::sorted_set(set), score_str(now), std::to_string(limit)});
    std::vector<std::string> out;
    out.reserve(r.elements.size());
    for (auto& e : r.elements) out.push_back(std::move(e.str));
    return out;
  });
}

void RedisStore::complete_claims(std::string_view identity, SortedSetName set,
                                 std::span<const std::string> members) {
  if (members.empty()) return;
  Command cmd{"HDEL", keys::claims(identity, set)};
  cmd.insert(cmd.end(), members.begin(), members.end());
  return pool_->run([&](RedisPool::Lease& c) -> void { c->command(cmd).check(); });
}

std::size_t RedisStore::restore_claims(std::string_view identity) {
  return pool_->run([&](RedisPool::Lease& c) -> std::size_t {
    auto n = scripts_->recover.run(*c, {std::string(identity), "claims"});
    return n.integer > 0 ? static_cast<std::size_t>(n.integer) : 0;
  });
}

// ---- sorted-set administration ----------------------------------------------------------------

void RedisStore::add(SortedSetName set, double score, std::string_view payload) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    c->command({"ZADD", keys::sorted_set(set), score_str(score), payload}).check();
  });
}

std::int64_t RedisStore::size(SortedSetName set) {
  return pool_->run([&](RedisPool::Lease& c) -> std::int64_t {
    return to_int(c->command({"ZCARD", keys::sorted_set(set)}).check());
  });
}

std::vector<ScoredPayload> RedisStore::range(SortedSetName set, std::int64_t offset,
                                             std::int64_t count, bool reverse) {
  if (count <= 0 || offset < 0) return {};
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<ScoredPayload> {
    auto r = c->command({reverse ? "ZREVRANGE" : "ZRANGE", keys::sorted_set(set),
                         std::to_string(offset), std::to_string(offset + count - 1), "WITHSCORES"});
    return to_scored(r.check());
  });
}

std::optional<ScoredPayload> RedisStore::take(SortedSetName set, std::string_view jid) {
  if (jid.empty()) return std::nullopt;
  const std::string key = keys::sorted_set(set);
  const std::string pattern = "*" + glob_escape(jid) + "*";
  return pool_->run([&](RedisPool::Lease& c) -> std::optional<ScoredPayload> {
    std::string cursor = "0";
    do {
      auto r = c->command({"ZSCAN", key, cursor, "MATCH", pattern, "COUNT", "500"}).check();
      if (r.elements.size() != 2) throw StoreError("redis: unexpected ZSCAN reply");
      cursor = r.elements[0].str;
      for (auto& candidate : to_scored(r.elements[1])) {
        if (!payload_has_jid(candidate.payload, jid)) continue;  // jid text elsewhere, e.g. in args
        if (to_int(c->command({"ZREM", key, candidate.payload}).check()) == 1) return candidate;
      }
    } while (cursor != "0");
    return std::nullopt;
  });
}

std::int64_t RedisStore::clear(SortedSetName set) {
  return pool_->run([&](RedisPool::Lease& c) -> std::int64_t {
    auto r = transaction(*c, {{"ZCARD", keys::sorted_set(set)}, {"UNLINK", keys::sorted_set(set)}});
    return to_int(r[0]);
  });
}

void RedisStore::trim_dead(double now, const DeadSetLimits& limits) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    std::vector<Command> cmds;
    add_dead_trims(cmds, now, limits);
    transaction(*c, cmds);
  });
}

// ---- queues -----------------------------------------------------------------------------------

std::vector<QueueSummary> RedisStore::queues(double now) {
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<QueueSummary> {
    auto names = sorted_strings(c->command({"SMEMBERS", std::string(keys::kQueues)}).check());
    std::vector<Command> cmds;
    for (const auto& q : names) {
      cmds.push_back({"LLEN", keys::queue(q)});
      cmds.push_back({"LINDEX", keys::queue(q), "-1"});
    }
    auto replies = c->pipeline(cmds);
    std::vector<QueueSummary> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto& len = replies[2 * i];
      const auto& oldest = replies[2 * i + 1];
      // A key of the wrong type (not written by Sidekiq or kiq) shows as empty, not as an error.
      out.push_back({names[i], len.is_error() ? 0 : to_int(len), latency_of(oldest, now)});
    }
    return out;
  });
}

std::int64_t RedisStore::queue_size(std::string_view queue) {
  return pool_->run([&](RedisPool::Lease& c) -> std::int64_t {
    return to_int(c->command({"LLEN", keys::queue(queue)}).check());
  });
}

std::vector<std::string> RedisStore::queue_range(std::string_view queue, std::int64_t offset,
                                                 std::int64_t count) {
  if (count <= 0 || offset < 0) return {};
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<std::string> {
    auto r = c->command({"LRANGE", keys::queue(queue), std::to_string(offset),
                         std::to_string(offset + count - 1)}).check();
    std::vector<std::string> out;
    out.reserve(r.elements.size());
    for (auto& e : r.elements) out.push_back(std::move(e.str));
    return out;
  });
}

std::int64_t RedisStore::clear_queue(std::string_view queue) {
  return pool_->run([&](RedisPool::Lease& c) -> std::int64_t {
    auto r = transaction(*c, {{"LLEN", keys::queue(queue)},
                              {"UNLINK", keys::queue(queue)},
                              {"SREM", std::string(keys::kQueues), std::string(queue)}});
    return to_int(r[0]);
  });
}

// ---- processes, heartbeat, stats --------------------------------------------------------------

std::optional<std::string> RedisStore::heartbeat(const ProcessBeat& beat) {
  if (beat.identity.empty()) throw std::invalid_argument("heartbeat: empty identity");
  const std::string ttl = std::to_string(std::max<std::int64_t>(1, beat.ttl.count()));
  return pool_->run([&](RedisPool::Lease& c) -> std::optional<std::string> {
    std::vector<Command> stats;
    if (beat.processed_delta != 0 || beat.failed_delta != 0) {
      constexpr const char* kStatsTtl = "157680000";  // 5 years, as Sidekiq
      for (auto [name, n] : {std::pair{"processed", beat.processed_delta},
                             std::pair{"failed", beat.failed_delta}}) {
        const std::string day = fmt::format("stat:{}:{}", name, beat.utc_date);
        stats.push_back({"INCRBY", fmt::format("stat:{}", name), std::to_string(n)});
        stats.push_back({"INCRBY", day, std::to_string(n)});
        stats.push_back({"EXPIRE", day, kStatsTtl});
      }
    }
    Command hset_work{"HSET", ""};
    for (const auto& [tid, json] : beat.work) {
      hset_work.push_back(tid);
      hset_work.push_back(json);
    }
    // Sidekiq 6.4's beat, in one round trip: stats MULTI, work hash, process MULTI.
    std::size_t sent = 0;
    if (!stats.empty()) {
      c->append({"MULTI"});
      for (const auto& s : stats) c->append(s);
      c->append({"EXEC"});
      sent += stats.size() + 2;
    }
    for (const std::string& work_key : {keys::work(beat.identity), keys::workers_v6(beat.identity)}) {
      c->append({"UNLINK", work_key});
      ++sent;
      if (!beat.work.empty()) {
        hset_work[1] = work_key;
        c->append(hset_work);
        c->append({"EXPIRE", work_key, ttl});
        sent += 2;
      }
    }
    c->append({"MULTI"});
    c->append({"SADD", keys::kProcesses, beat.identity});
    c->append({"HSET", beat.identity, "info", beat.info_json, "busy", std::to_string(beat.busy),
               "beat", score_str(beat.beat), "rtt_us", std::to_string(beat.rtt_us), "quiet",
               beat.quiet ? "true" : "false", "rss", std::to_string(beat.rss_kb)});
    c->append({"EXPIRE", beat.identity, ttl});
    c->append({"RPOP", keys::signals(beat.identity)});
    c->append({"EXEC"});
    sent += 6;
    std::string error;
    RedisReply last;
    for (std::size_t i = 0; i < sent; ++i) {
      last = c->read_reply();
      if (last.is_error() && error.empty()) error = last.str;
    }
    if (!error.empty()) throw StoreError("redis error in heartbeat: " + error);
    if (last.type != RedisReply::Type::kArray || last.elements.size() != 4) {
      throw StoreError("redis: heartbeat transaction aborted");
    }
    const auto& signal = last.elements[3];
    if (signal.type == RedisReply::Type::kString) return signal.str;
    return std::nullopt;
  });
}

void RedisStore::remove_process(std::string_view identity) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    pipeline_checked(*c, {{"SREM", std::string(keys::kProcesses), std::string(identity)},
                          {"UNLINK", std::string(identity), keys::work(identity),
                           keys::workers_v6(identity)}});
  });
}

std::vector<ProcessRecord> RedisStore::processes() {
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<ProcessRecord> {
    auto ids = sorted_strings(c->command({"SMEMBERS", std::string(keys::kProcesses)}).check());
    std::vector<Command> cmds;
    for (const auto& id : ids) cmds.push_back({"HMGET", id, "info", "busy", "beat", "quiet", "rss", "rtt_us"});
    auto replies = c->pipeline(cmds);
    std::vector<ProcessRecord> out;
    Command prune{"SREM", std::string(keys::kProcesses)};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto& r = replies[i];
      if (r.is_error()) continue;  // not a hash: not ours to judge
      if (r.elements.size() != 6 || r.elements[0].is_nil()) {
        prune.push_back(ids[i]);  // heartbeat expired: ProcessSet#cleanup does the same
        continue;
      }
      ProcessRecord p;
      p.identity = ids[i];
      p.info_json = r.elements[0].str;
      p.busy = to_int(r.elements[1]);
      p.beat = to_double(r.elements[2]);
      p.quiet = r.elements[3].str == "true";
      p.rss_kb = to_int(r.elements[4]);
      p.rtt_us = to_int(r.elements[5]);
      out.push_back(std::move(p));
    }
    if (prune.size() > 2) c->command(prune).check();
    return out;
  });
}

std::vector<WorkRecord> RedisStore::work() {
  auto procs = processes();
  return pool_->run([&](RedisPool::Lease& c) -> std::vector<WorkRecord> {
    std::vector<Command> cmds;
    for (const auto& p : procs) cmds.push_back({"HGETALL", keys::work(p.identity)});
    auto replies = c->pipeline(cmds);
    std::vector<WorkRecord> out;
    for (std::size_t i = 0; i < procs.size(); ++i) {
      const auto& r = replies[i];
      for (std::size_t k = 0; k + 1 < r.elements.size(); k += 2) {
        out.push_back({procs[i].identity, r.elements[k].str, r.elements[k + 1].str});
      }
    }
    return out;
  });
}

void RedisStore::signal(std::string_view identity, std::string_view signal) {
  return pool_->run([&](RedisPool::Lease& c) -> void {
    pipeline_checked(*c, {{"LPUSH", keys::signals(identity), std::string(signal)},
                          {"EXPIRE", keys::signals(identity), "60"}});
  });
}

StoreStats RedisStore::stats(double now) {
  return pool_->run([&](RedisPool::Lease& c) -> StoreStats {
    // The Web UI's dashboard pipeline, then its "slow part" (busy and enqueued sums).
    auto r = c->pipeline({{"GET", "stat:processed"},
                          {"GET", "stat:failed"},
                          {"ZCARD", "schedule"},
                          {"ZCARD", "retry"},
                          {"ZCARD", "dead"},
                          {"SCARD", std::string(keys::kProcesses)},
                          {"SMEMBERS", std::string(keys::kProcesses)},
                          {"SMEMBERS", std::string(keys::kQueues)}});
    StoreStats s;
    s.processed = to_int(r[0]);
    s.failed = to_int(r[1]);
    s.scheduled_size = to_int(r[2]);
    s.retry_size = to_int(r[3]);
    s.dead_size = to_int(r[4]);
    s.processes_size = to_int(r[5]);
    std::vector<Command> cmds;
    for (const auto& id : r[6].elements) cmds.push_back({"HGET", id.str, "busy"});
    for (const auto& q : r[7].elements) cmds.push_back({"LLEN", keys::queue(q.str)});
    auto sums = c->pipeline(cmds);
    const std::size_t nproc = r[6].elements.size();
    for (std::size_t i = 0; i < sums.size(); ++i) {
      if (sums[i].is_error()) continue;
      (i < nproc ? s.busy : s.enqueued) += to_int(sums[i]);
    }
    return s;
  });
}

std::shared_ptr<RedisStore> make_redis_store(std::string_view url, RedisOptions options) {
  return std::make_shared<RedisStore>(parse_redis_url(url), options);
}

}  // namespace kiq
