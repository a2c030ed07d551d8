// MemoryStore: Redis semantics in process memory, guarded by one mutex.
#include "kiq/store/memory.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include <nlohmann/json.hpp>

#include "util/deadline.hpp"

namespace kiq {

using Json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// A Redis sorted set: score order, ties by member bytes; member -> score for updates.
struct SortedSet {
  std::set<std::pair<double, std::string>> ordered;
  std::unordered_map<std::string, double> scores;

  void add(double score, std::string member) {
    if (auto it = scores.find(member); it != scores.end()) {
      ordered.erase({it->second, member});
      it->second = score;
    } else {
      scores.emplace(member, score);
    }
    ordered.emplace(score, std::move(member));
  }
  void erase(std::set<std::pair<double, std::string>>::iterator it) {
    scores.erase(it->second);
    ordered.erase(it);
  }
  std::int64_t size() const { return static_cast<std::int64_t>(ordered.size()); }
};

// Value of a key-value key (string or set) with an optional deadline.
struct KvEntry {
  std::variant<std::string, std::set<std::string>> value;
  std::optional<Clock::time_point> expires;
};

struct ProcessState {
  ProcessRecord record;
  Clock::time_point expires;
};

struct WorkState {
  std::vector<std::pair<std::string, std::string>> entries;
  Clock::time_point expires;
};

std::string jid_of(const std::string& payload) {
  Json j = Json::parse(payload, nullptr, false);
  if (j.is_object()) {
    if (auto it = j.find("jid"); it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

constexpr std::int64_t kStatsTtlSeconds = 5LL * 365 * 24 * 60 * 60;

}  // namespace

class MemoryStore::Impl : public KeyValue {
 public:
  std::mutex mu;
  std::condition_variable pushed;
  std::set<std::string> queue_names;
  std::map<std::string, std::deque<std::string>, std::less<>> lists;  // front = LPUSH end
  // identity -> fetched jobs in fetch order
  std::map<std::string, std::vector<FetchedJob>, std::less<>> in_progress;
  // identity -> per sorted set: member -> original score, popped by pop_due and not completed
  using Claims = std::array<std::unordered_map<std::string, double>, 3>;
  std::map<std::string, Claims, std::less<>> claims;
  SortedSet sets[3];
  std::set<std::string, std::less<>> process_ids;
  std::map<std::string, ProcessState, std::less<>> process_hashes;
  std::map<std::string, WorkState, std::less<>> work;
  std::map<std::string, std::deque<std::string>, std::less<>> signals;  // front = LPUSH end
  std::map<std::string, Clock::time_point, std::less<>> signal_expiry;
  std::map<std::string, KvEntry, std::less<>> kv;

  SortedSet& zset(SortedSetName name) { return sets[static_cast<int>(name)]; }

  // ---- lazily expiring lookups (caller holds mu) ----
  bool process_alive(std::string_view id) {
    auto it = process_hashes.find(id);
    if (it == process_hashes.end()) return false;
    if (Clock::now() >= it->second.expires) {
      process_hashes.erase(it);
      return false;
    }
    return true;
  }
  WorkState* live_work(std::string_view id) {
    auto it = work.find(id);
    if (it == work.end()) return nullptr;
    if (Clock::now() >= it->second.expires) {
      work.erase(it);
      return nullptr;
    }
    return &it->second;
  }
  KvEntry* entry(std::string_view key) {
    auto it = kv.find(key);
    if (it == kv.end()) return nullptr;
    if (it->second.expires && Clock::now() >= *it->second.expires) {
      kv.erase(it);
      return nullptr;
    }
    return &it->second;
  }
  std::int64_t incr_locked(std::string_view key, std::int64_t by) {
    KvEntry* e = entry(key);
    std::int64_t value = 0;
    if (e) {
      auto* s = std::get_if<std::string>(&e->value);
      if (!s) throw StoreError("WRONGTYPE Operation against a key holding the wrong kind of value");
      try {
        std::size_t used = 0;
        value = std::stoll(*s, &used);
        if (used != s->size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw StoreError("ERR value is not an integer or out of range");
      }
    } else {
      e = &kv[std::string(key)];
    }
    value += by;
    e->value = std::to_string(value);
    return value;
  }
  void expire_locked(std::string_view key, std::chrono::seconds ttl) {
    if (KvEntry* e = entry(key)) e->expires = util::deadline_after(ttl);
  }
  bool remove_in_progress(std::string_view identity, const FetchedJob& job) {
    auto it = in_progress.find(identity);
    if (it == in_progress.end()) return false;
    auto& jobs = it->second;
    auto pos = std::find_if(jobs.begin(), jobs.end(), [&](const FetchedJob& j) {
      return j.queue == job.queue && j.payload == job.payload;
    });
    if (pos == jobs.end()) return false;
    jobs.erase(pos);
    if (jobs.empty()) in_progress.erase(it);
    return true;
  }
  // LPUSH semantics for recovery: jobs go back to the consumer end (RPUSH), oldest fetched
  // last so it is the next one popped, as the Redis store does for an in-progress list.
  std::size_t restore_claims_locked(std::string_view identity) {
    auto it = claims.find(identity);
    if (it == claims.end()) return 0;
    std::size_t n = 0;
    for (std::size_t set = 0; set < it->second.size(); ++set) {
      for (auto& [member, score] : it->second[set]) sets[set].add(score, member);
      n += it->second[set].size();
    }
    claims.erase(it);
    return n;
  }
  // Claims first, then the in-progress jobs (the Redis recovery script's order).
  std::size_t recover_locked(std::string_view identity) {
    std::size_t n = restore_claims_locked(identity);
    auto it = in_progress.find(identity);
    if (it == in_progress.end()) return n;
    n += it->second.size();
    for (auto job = it->second.rbegin(); job != it->second.rend(); ++job) {
      queue_names.insert(job->queue);
      lists[job->queue].push_back(job->payload);
    }
    in_progress.erase(it);
    pushed.notify_all();
    return n;
  }
  void trim_dead_locked(double now, const DeadSetLimits& limits) {
    SortedSet& dead = zset(SortedSetName::kDead);
    double cutoff = now - limits.max_age_seconds;
    while (!dead.ordered.empty() && dead.ordered.begin()->first <= cutoff) dead.erase(dead.ordered.begin());
    // ZREMRANGEBYRANK dead 0 -max_jobs: keeps max_jobs - 1 once the limit is reached (Sidekiq).
    if (limits.max_jobs > 0) {
      while (dead.size() >= limits.max_jobs) dead.erase(dead.ordered.begin());
    }
  }

  // ---- KeyValue ----
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    std::lock_guard lock(mu);
    KvEntry& e = kv[std::string(key)];
    e.value = std::string(value);
    e.expires.reset();
    if (ttl.count() > 0) e.expires = util::deadline_after(std::min(ttl, KeyValue::kMaxTtl));
  }
  std::optional<std::string> get(std::string_view key) override {
    std::lock_guard lock(mu);
    KvEntry* e = entry(key);
    if (!e) return std::nullopt;
    auto* s = std::get_if<std::string>(&e->value);
    if (!s) throw StoreError("WRONGTYPE Operation against a key holding the wrong kind of value");
    return *s;
  }
  bool del(std::string_view key) override {
    std::lock_guard lock(mu);
    if (!entry(key)) return false;
    kv.erase(kv.find(key));
    return true;
  }
  std::int64_t ttl(std::string_view key) override {
    std::lock_guard lock(mu);
    KvEntry* e = entry(key);
    if (!e) return -2;
    if (!e->expires) return -1;
    return (util::time_left(*e->expires).count() + 500) / 1000;  // Redis rounds to the second
  }
  std::int64_t incr(std::string_view key, std::int64_t by) override {
    std::lock_guard lock(mu);
    return incr_locked(key, by);
  }
  std::set<std::string>* set_for(std::string_view key, bool create) {
    KvEntry* e = entry(key);
    if (!e) {
      if (!create) return nullptr;
      e = &kv[std::string(key)];
      e->value = std::set<std::string>{};
    }
    auto* s = std::get_if<std::set<std::string>>(&e->value);
    if (!s) throw StoreError("WRONGTYPE Operation against a key holding the wrong kind of value");
    return s;
  }
  bool sadd(std::string_view key, std::string_view member) override {
    std::lock_guard lock(mu);
    return set_for(key, true)->insert(std::string(member)).second;
  }
  bool sismember(std::string_view key, std::string_view member) override {
    std::lock_guard lock(mu);
    auto* s = set_for(key, false);
    return s && s->count(std::string(member)) > 0;
  }
  std::int64_t scard(std::string_view key) override {
    std::lock_guard lock(mu);
    auto* s = set_for(key, false);
    return s ? static_cast<std::int64_t>(s->size()) : 0;
  }
  std::vector<std::string> smembers(std::string_view key) override {
    std::lock_guard lock(mu);
    auto* s = set_for(key, false);
    return s ? std::vector<std::string>(s->begin(), s->end()) : std::vector<std::string>{};
  }
};

MemoryStore::MemoryStore() : impl_(std::make_unique<Impl>()) {}
MemoryStore::~MemoryStore() = default;

void MemoryStore::push(std::string_view queue, std::span<const std::string> payloads) {
  if (queue.empty()) throw StoreError("kiq: push to an empty queue name");
  if (payloads.empty()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue_names.emplace(queue);
    auto& list = impl_->lists[std::string(queue)];
    for (const auto& p : payloads) list.push_front(p);  // LPUSH a b c: c ends up leftmost
  }
  impl_->pushed.notify_all();
}

void MemoryStore::schedule(std::span<const ScoredPayload> jobs) {
  std::lock_guard lock(impl_->mu);
  for (const auto& j : jobs) impl_->zset(SortedSetName::kSchedule).add(j.score, j.payload);
}

std::vector<FetchedJob> MemoryStore::fetch(std::string_view identity,
                                           std::span<const std::string> queues, std::size_t max,
                                           std::chrono::milliseconds timeout) {
  std::vector<FetchedJob> out;
  if (max == 0 || queues.empty()) return out;
  auto deadline = util::deadline_after(timeout);
  std::unique_lock lock(impl_->mu);
  for (;;) {
    for (const auto& q : queues) {
      auto it = impl_->lists.find(q);
      if (it == impl_->lists.end()) continue;
      while (!it->second.empty() && out.size() < max) {
        out.push_back({q, std::move(it->second.back())});
        it->second.pop_back();
      }
      if (out.size() >= max) break;
    }
    if (!out.empty()) {
      auto& mine = impl_->in_progress[std::string(identity)];
      mine.insert(mine.end(), out.begin(), out.end());
      return out;
    }
    if (Clock::now() >= deadline) return out;
    impl_->pushed.wait_until(lock, deadline);  // spurious wake-ups just look again
  }
}

void MemoryStore::ack(std::string_view identity, const FetchedJob& job) {
  std::lock_guard lock(impl_->mu);
  impl_->remove_in_progress(identity, job);
}

void MemoryStore::ack_and_retry(std::string_view identity, const FetchedJob& job, double at,
                                std::string_view payload) {
  std::lock_guard lock(impl_->mu);
  impl_->remove_in_progress(identity, job);
  impl_->zset(SortedSetName::kRetry).add(at, std::string(payload));
}

void MemoryStore::ack_and_kill(std::string_view identity, const FetchedJob& job, double now,
                               std::string_view payload, const DeadSetLimits& limits) {
  std::lock_guard lock(impl_->mu);
  impl_->remove_in_progress(identity, job);
  impl_->zset(SortedSetName::kDead).add(now, std::string(payload));
  impl_->trim_dead_locked(now, limits);
}

void MemoryStore::requeue(std::string_view identity, std::span<const FetchedJob> jobs) {
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& job : jobs) {
      impl_->remove_in_progress(identity, job);
      impl_->queue_names.insert(job.queue);
      impl_->lists[job.queue].push_back(job.payload);  // RPUSH: next to be fetched
    }
  }
  impl_->pushed.notify_all();
}

std::vector<FetchedJob> MemoryStore::in_progress(std::string_view identity) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->in_progress.find(identity);
  return it == impl_->in_progress.end() ? std::vector<FetchedJob>{} : it->second;
}

std::size_t MemoryStore::recover_orphans() {
  std::lock_guard lock(impl_->mu);
  std::set<std::string> orphaned;
  for (const auto& [id, jobs] : impl_->in_progress)
    if (!impl_->process_alive(id)) orphaned.insert(id);
  for (const auto& [id, claimed] : impl_->claims)
    if (!impl_->process_alive(id)) orphaned.insert(id);
  std::size_t n = 0;
  for (const auto& id : orphaned) n += impl_->recover_locked(id);
  return n;
}

std::size_t MemoryStore::recover(std::string_view identity) {
  std::lock_guard lock(impl_->mu);
  return impl_->recover_locked(identity);
}

std::vector<std::string> MemoryStore::pop_due(std::string_view identity, SortedSetName set,
                                              double now, std::size_t limit) {
  if (identity.empty()) throw std::invalid_argument("pop_due: empty identity");
  std::lock_guard lock(impl_->mu);
  SortedSet& z = impl_->zset(set);
  std::vector<std::string> out;
  if (limit == 0 || z.ordered.empty() || z.ordered.begin()->first > now) return out;
  auto& claimed = impl_->claims[std::string(identity)][static_cast<std::size_t>(set)];
  while (out.size() < limit && !z.ordered.empty() && z.ordered.begin()->first <= now) {
    const auto& [score, member] = *z.ordered.begin();
    claimed[member] = score;
    out.push_back(member);
    z.erase(z.ordered.begin());
  }
  return out;
}

void MemoryStore::complete_claims(std::string_view identity, SortedSetName set,
                                  std::span<const std::string> members) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->claims.find(identity);
  if (it == impl_->claims.end()) return;
  auto& claimed = it->second[static_cast<std::size_t>(set)];
  for (const auto& m : members) claimed.erase(m);
  bool empty = std::all_of(it->second.begin(), it->second.end(), [](const auto& c) { return c.empty(); });
  if (empty) impl_->claims.erase(it);
}

std::size_t MemoryStore::restore_claims(std::string_view identity) {
  std::lock_guard lock(impl_->mu);
  return impl_->restore_claims_locked(identity);
}

void MemoryStore::add(SortedSetName set, double score, std::string_view payload) {
  std::lock_guard lock(impl_->mu);
  impl_->zset(set).add(score, std::string(payload));
}

std::int64_t MemoryStore::size(SortedSetName set) {
  std::lock_guard lock(impl_->mu);
  return impl_->zset(set).size();
}

std::vector<ScoredPayload> MemoryStore::range(SortedSetName set, std::int64_t offset,
                                              std::int64_t count, bool reverse) {
  std::lock_guard lock(impl_->mu);
  std::vector<ScoredPayload> out;
  if (offset < 0 || count <= 0) return out;
  auto take = [&](auto begin, auto end) {
    std::int64_t i = 0;
    for (auto it = begin; it != end && static_cast<std::int64_t>(out.size()) < count; ++it, ++i)
      if (i >= offset) out.push_back({it->first, it->second});
  };
  const auto& ordered = impl_->zset(set).ordered;
  if (reverse) take(ordered.rbegin(), ordered.rend());
  else take(ordered.begin(), ordered.end());
  return out;
}

std::optional<ScoredPayload> MemoryStore::take(SortedSetName set, std::string_view jid) {
  if (jid.empty()) return std::nullopt;
  std::lock_guard lock(impl_->mu);
  SortedSet& z = impl_->zset(set);
  for (auto it = z.ordered.begin(); it != z.ordered.end(); ++it) {
    if (it->second.find(jid) == std::string::npos) continue;  // cheap filter before parsing
    if (jid_of(it->second) != jid) continue;
    ScoredPayload found{it->first, it->second};
    z.erase(it);
    return found;
  }
  return std::nullopt;
}

std::int64_t MemoryStore::clear(SortedSetName set) {
  std::lock_guard lock(impl_->mu);
  SortedSet& z = impl_->zset(set);
  std::int64_t n = z.size();
  z = SortedSet{};
  return n;
}

void MemoryStore::trim_dead(double now, const DeadSetLimits& limits) {
  std::lock_guard lock(impl_->mu);
  impl_->trim_dead_locked(now, limits);
}

std::vector<QueueSummary> MemoryStore::queues(double now) {
  std::lock_guard lock(impl_->mu);
  std::vector<QueueSummary> out;
  for (const auto& name : impl_->queue_names) {
    QueueSummary s{name, 0, 0};
    if (auto it = impl_->lists.find(name); it != impl_->lists.end() && !it->second.empty()) {
      s.size = static_cast<std::int64_t>(it->second.size());
      Json oldest = Json::parse(it->second.back(), nullptr, false);
      if (oldest.is_object()) {
        if (auto e = oldest.find("enqueued_at"); e != oldest.end() && e->is_number())
          s.latency_seconds = now - e->get<double>();
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::int64_t MemoryStore::queue_size(std::string_view queue) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->lists.find(queue);
  return it == impl_->lists.end() ? 0 : static_cast<std::int64_t>(it->second.size());
}

std::vector<std::string> MemoryStore::queue_range(std::string_view queue, std::int64_t offset,
                                                  std::int64_t count) {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  auto it = impl_->lists.find(queue);
  if (it == impl_->lists.end() || offset < 0 || count <= 0) return out;
  const auto& list = it->second;
  for (std::int64_t i = offset; i < offset + count && i < static_cast<std::int64_t>(list.size()); ++i)
    out.push_back(list[static_cast<std::size_t>(i)]);
  return out;
}

std::int64_t MemoryStore::clear_queue(std::string_view queue) {
  std::lock_guard lock(impl_->mu);
  std::int64_t n = 0;
  if (auto it = impl_->lists.find(queue); it != impl_->lists.end()) {
    n = static_cast<std::int64_t>(it->second.size());
    impl_->lists.erase(it);
  }
  impl_->queue_names.erase(std::string(queue));
  return n;
}

std::optional<std::string> MemoryStore::heartbeat(const ProcessBeat& beat) {
  std::lock_guard lock(impl_->mu);
  auto now = Clock::now();
  auto flush = [&](const char* name, std::int64_t delta) {
    std::string total = std::string("stat:") + name;
    std::string daily = total + ":" + beat.utc_date;
    impl_->incr_locked(total, delta);
    impl_->incr_locked(daily, delta);
    impl_->expire_locked(daily, std::chrono::seconds(kStatsTtlSeconds));
  };
  flush("processed", beat.processed_delta);
  flush("failed", beat.failed_delta);

  impl_->work.erase(beat.identity);
  if (!beat.work.empty()) impl_->work[beat.identity] = WorkState{beat.work, now + beat.ttl};

  impl_->process_ids.insert(beat.identity);
  ProcessRecord rec{beat.identity, beat.info_json, beat.busy, beat.beat, beat.quiet, beat.rss_kb, beat.rtt_us};
  impl_->process_hashes[beat.identity] = ProcessState{std::move(rec), now + beat.ttl};

  std::string key = beat.identity + "-signals";
  if (auto exp = impl_->signal_expiry.find(key); exp != impl_->signal_expiry.end() && now >= exp->second) {
    impl_->signals.erase(key);
    impl_->signal_expiry.erase(exp);
  }
  auto it = impl_->signals.find(key);
  if (it == impl_->signals.end() || it->second.empty()) return std::nullopt;
  std::string sig = std::move(it->second.back());  // RPOP
  it->second.pop_back();
  if (it->second.empty()) {
    impl_->signals.erase(it);
    impl_->signal_expiry.erase(key);
  }
  return sig;
}

void MemoryStore::remove_process(std::string_view identity) {
  std::lock_guard lock(impl_->mu);
  impl_->process_ids.erase(std::string(identity));
  impl_->process_hashes.erase(std::string(identity));
  impl_->work.erase(std::string(identity));
}

std::vector<ProcessRecord> MemoryStore::processes() {
  std::lock_guard lock(impl_->mu);
  std::vector<ProcessRecord> out;
  for (auto it = impl_->process_ids.begin(); it != impl_->process_ids.end();) {
    if (!impl_->process_alive(*it)) {
      it = impl_->process_ids.erase(it);  // ProcessSet#cleanup
      continue;
    }
    out.push_back(impl_->process_hashes.find(*it)->second.record);
    ++it;
  }
  return out;
}

std::vector<WorkRecord> MemoryStore::work() {
  std::lock_guard lock(impl_->mu);
  std::vector<WorkRecord> out;
  for (const auto& id : impl_->process_ids) {
    if (!impl_->process_alive(id)) continue;
    if (WorkState* w = impl_->live_work(id))
      for (const auto& [tid, json] : w->entries) out.push_back({id, tid, json});
  }
  return out;
}

void MemoryStore::signal(std::string_view identity, std::string_view signal) {
  std::lock_guard lock(impl_->mu);
  std::string key = std::string(identity) + "-signals";
  auto now = Clock::now();
  if (auto exp = impl_->signal_expiry.find(key); exp != impl_->signal_expiry.end() && now >= exp->second)
    impl_->signals.erase(key);
  impl_->signals[key].push_front(std::string(signal));
  impl_->signal_expiry[key] = now + std::chrono::seconds(60);
}

StoreStats MemoryStore::stats(double now) {
  std::lock_guard lock(impl_->mu);
  StoreStats s;
  auto counter = [&](const char* key) -> std::int64_t {
    KvEntry* e = impl_->entry(key);
    if (!e) return 0;
    auto* str = std::get_if<std::string>(&e->value);
    if (!str) return 0;
    try {
      return std::stoll(*str);
    } catch (const std::exception&) {
      return 0;  // someone stored text under a stat key: report 0 rather than fail
    }
  };
  s.processed = counter("stat:processed");
  s.failed = counter("stat:failed");
  s.scheduled_size = impl_->zset(SortedSetName::kSchedule).size();
  s.retry_size = impl_->zset(SortedSetName::kRetry).size();
  s.dead_size = impl_->zset(SortedSetName::kDead).size();
  s.processes_size = static_cast<std::int64_t>(impl_->process_ids.size());
  for (const auto& name : impl_->queue_names)
    if (auto it = impl_->lists.find(name); it != impl_->lists.end())
      s.enqueued += static_cast<std::int64_t>(it->second.size());
  for (const auto& id : impl_->process_ids)
    if (impl_->process_alive(id)) s.busy += impl_->process_hashes.find(id)->second.record.busy;
  return s;
}

KeyValue& MemoryStore::kv() { return *impl_; }

}  // namespace kiq
