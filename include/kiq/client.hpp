// Client: enqueues jobs as Sidekiq job hashes (Sidekiq::Client), through the client middleware.
//
//   kiq::Client client(store);
//   client.perform_async("HardJob", {1, "x"});
//   client.perform_in(30, "HardJob", {2});                 // 30 s from now
//   client.set({.queue = "critical", .retry = 3}).perform_async("HardJob", {3});
//   client.perform_async<UserNotificationJob>(42, "welcome");
//   client.push_bulk("HardJob", {{1}, {2}, {3}});
//
// Every push produces exactly Sidekiq's hash: class, args, queue, retry, jid (24 hex),
// created_at (float s), enqueued_at (queue pushes only); `at` becomes the schedule score and is
// removed; unknown keys are preserved. kiq adds "scheduled_at" (the requested run-at, float s)
// to scheduled jobs so the server can measure schedule drift; Ruby ignores it.
//
// Errors: invalid items throw std::invalid_argument; store failures propagate as StoreError.
// Thread-safety: thread-safe (middleware chains are read-only after construction).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/job.hpp"
#include "kiq/middleware.hpp"
#include "kiq/store.hpp"

namespace kiq {

// Per-push overrides (Sidekiq's `set(...)`). Unset fields fall back to the job type's options.
// Thread-safety: value type.
struct PushOptions {
  std::optional<std::string> queue;
  std::optional<RetryOption> retry;
  // Run at this epoch (or, when < 1e9, this many seconds from now). <= now runs immediately.
  std::optional<double> at;
  std::optional<double> in;  // seconds from now (Sidekiq's `wait:`)
  Json extra = Json::object();  // extra top-level keys merged into the hash
};

class Client {
 public:
  static constexpr std::size_t kDefaultBatchSize = 1000;

  // `registry` (optional, must outlive the client) supplies per-type options for string class
  // names; without it, or for unknown names, Sidekiq's defaults apply (queue default, retry true).
  explicit Client(std::shared_ptr<Store> store, ClientChain middleware = {},
                  const JobRegistry* registry = nullptr);

  // Each returns the jid, or nullopt when a client middleware stopped the push.
  std::optional<std::string> perform_async(std::string_view job_class, Json args = Json::array());
  std::optional<std::string> perform_in(double seconds, std::string_view job_class,
                                        Json args = Json::array());
  std::optional<std::string> perform_at(double epoch, std::string_view job_class,
                                        Json args = Json::array());

  // Typed helpers for a registered-style class (see JobRegistry::add<T>).
  template <class T, class... A>
  std::optional<std::string> perform_async(A&&... args) {
    return push_typed(T::name, JobRegistry::options_of<T>(), {}, make_args(std::forward<A>(args)...));
  }
  template <class T, class... A>
  std::optional<std::string> perform_in(double seconds, A&&... args) {
    PushOptions o;
    o.in = seconds;
    return push_typed(T::name, JobRegistry::options_of<T>(), o, make_args(std::forward<A>(args)...));
  }

  // Sidekiq's `set(...)`: a short-lived view with overrides (copyable, cheap). Thread-safety:
  // as safe as the Client it refers to (which must outlive it).
  class Configured {
   public:
    std::optional<std::string> perform_async(std::string_view job_class, Json args = Json::array());
    std::optional<std::string> perform_in(double seconds, std::string_view job_class,
                                          Json args = Json::array());
    std::optional<std::string> perform_at(double epoch, std::string_view job_class,
                                          Json args = Json::array());
    template <class T, class... A>
    std::optional<std::string> perform_async(A&&... args) {
      return client_->push_typed(T::name, JobRegistry::options_of<T>(), options_,
                                 make_args(std::forward<A>(args)...));
    }

   private:
    friend class Client;
    Configured(Client* client, PushOptions options) : client_(client), options_(std::move(options)) {}
    Client* client_;
    PushOptions options_;
  };
  Configured set(PushOptions options) { return Configured(this, std::move(options)); }

  // Raw Sidekiq-style push: item needs "class" and "args" (array); may carry "queue", "retry",
  // "at", "jid", "created_at" and any other keys (kept as they are). Per-type options from the
  // registry fill keys the item lacks.
  std::optional<std::string> push(Json item, PushOrigin origin = PushOrigin::kClient);

  // Many jobs of one class: a fresh jid each; `at` (optional) schedules them all. Chunked by
  // batch_size: one LPUSH (or ZADD) per chunk, one created_at/enqueued_at per chunk (as
  // Sidekiq's raw_push). Throws std::invalid_argument before pushing anything if an element of
  // args is not an array. Without client middleware the job text is written directly (no Json
  // object per job) and immediate chunks go through Store::push_batches (pipelined on Redis).
  // Returns the jids actually pushed.
  std::vector<std::string> push_bulk(std::string_view job_class, const std::vector<Json>& args,
                                     std::optional<double> at = std::nullopt,
                                     std::size_t batch_size = kDefaultBatchSize);

  // push_bulk of `count` jobs with the same args (`kiq enqueue --count`), without `count`
  // copies of args in memory. Throws std::invalid_argument if args is not an array.
  std::vector<std::string> push_bulk_copies(std::string_view job_class, const Json& args,
                                            std::size_t count,
                                            std::optional<double> at = std::nullopt,
                                            std::size_t batch_size = kDefaultBatchSize);

  Store& store() { return *store_; }
  const std::shared_ptr<Store>& store_ptr() const { return store_; }
  const ClientChain& middleware() const { return middleware_; }
  const JobRegistry* registry() const { return registry_; }

 private:
  template <class... A>
  static Json make_args(A&&... args) {
    Json a = Json::array();
    (a.push_back(Json(std::forward<A>(args))), ...);
    return a;
  }
  std::optional<std::string> push_typed(std::string_view job_class, const JobOptions& options,
                                        const PushOptions& overrides, Json args);
  std::optional<std::string> push_with(std::string_view job_class, const PushOptions& overrides,
                                       Json args);
  std::optional<std::string> push_normalized(Json item, PushOrigin origin);
  // push_bulk's two ways to write one chunk; `base` is the chunk's normalized hash.
  void push_chunk_text(Json base, std::span<const Json> chunk, std::optional<double> run_at,
                       double now, std::vector<std::string>& jids);
  void push_chunk_through_middleware(const Json& base, std::span<const Json> chunk,
                                     std::optional<double> run_at, double now,
                                     std::vector<std::string>& jids);

  std::shared_ptr<Store> store_;
  ClientChain middleware_;
  const JobRegistry* registry_;
};

// Builds the normalized Sidekiq hash for `item` (validates; applies type options then defaults;
// sets jid / created_at if absent). Exposed for tests and the CLI. `now` in epoch seconds.
// Throws std::invalid_argument with a clear message for an invalid item.
Json normalize_item(Json item, const JobOptions* type_options, double now);

// Resolves Sidekiq's `at` rules: values < 1e9 are relative to now; returns nullopt when the job
// should run immediately (at <= now). Throws std::invalid_argument when `at` is not finite (NaN
// or infinity would make a schedule entry no poller ever takes, and JSON has no such numbers).
std::optional<double> resolve_at(double at, double now);

}  // namespace kiq
