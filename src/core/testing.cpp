// Test mode (Sidekiq::Testing inline! / fake!): a MemoryStore whose queue and schedule writes
// are intercepted, so pushes either run the job at once or are collected for drain().
#include "kiq/testing.hpp"

#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "core/run_job.hpp"
#include "kiq/store/memory.hpp"

namespace kiq::testing {

class Harness::Impl {
 public:
  // Pushes go to the harness; everything else (kv, sets) is a plain MemoryStore.
  class InterceptStore : public MemoryStore {
   public:
    explicit InterceptStore(Harness::Impl& owner) : owner_(owner) {}
    void push(std::string_view, std::span<const std::string> payloads) override {
      for (const auto& p : payloads) owner_.accept(Json::parse(p));
    }
    void schedule(std::span<const ScoredPayload> jobs) override {
      for (const auto& j : jobs) owner_.accept(Json::parse(j.payload));
    }

   private:
    Harness::Impl& owner_;
  };

  Impl(const JobRegistry& registry, Mode mode, ServerChain server, ClientChain client)
      : registry_(registry), mode_(mode), server_chain_(std::move(server)),
        store_(std::make_shared<InterceptStore>(*this)), client_(store_, std::move(client), &registry) {}

  void accept(Json job) {
    if (mode() == Mode::kInline) {
      perform(job);
      return;
    }
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }

  void perform(const Json& job) {
    std::string cls = job.value("class", "");
    const JobType* type = registry_.find(cls);
    if (!type) throw UnknownJobClass(fmt::format("unknown job class {} (not in the registry)", cls));
    JobContext ctx(job, job.value("queue", "default"), type, client_, *store_);
    detail::run_job(server_chain_, ctx, *type);
  }

  std::optional<Json> take_next(std::string_view job_class) {
    std::lock_guard lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (!job_class.empty() && it->value("class", "") != job_class) continue;
      Json job = std::move(*it);
      jobs_.erase(it);
      return job;
    }
    return std::nullopt;
  }

  std::vector<Json> jobs(std::string_view job_class) const {
    std::lock_guard lock(mu_);
    std::vector<Json> out;
    for (const auto& j : jobs_)
      if (job_class.empty() || j.value("class", "") == job_class) out.push_back(j);
    return out;
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return jobs_.size();
  }
  void clear() {
    std::lock_guard lock(mu_);
    jobs_.clear();
  }
  Mode mode() const {
    std::lock_guard lock(mu_);
    return mode_;
  }
  void set_mode(Mode m) {
    std::lock_guard lock(mu_);
    mode_ = m;
  }
  Client& client() { return client_; }
  Store& store() { return *store_; }

 private:
  const JobRegistry& registry_;
  mutable std::mutex mu_;
  Mode mode_;
  std::deque<Json> jobs_;
  ServerChain server_chain_;
  std::shared_ptr<InterceptStore> store_;
  Client client_;
};

Harness::Harness(const JobRegistry& registry, Mode mode, ServerChain server_middleware,
                 ClientChain client_middleware)
    : impl_(std::make_unique<Impl>(registry, mode, std::move(server_middleware),
                                   std::move(client_middleware))) {}
Harness::~Harness() = default;

Client& Harness::client() { return impl_->client(); }
Store& Harness::store() { return impl_->store(); }
Mode Harness::mode() const { return impl_->mode(); }
void Harness::set_mode(Mode mode) { impl_->set_mode(mode); }
std::vector<Json> Harness::jobs(std::string_view job_class) const { return impl_->jobs(job_class); }
std::size_t Harness::size() const { return impl_->size(); }
void Harness::clear() { impl_->clear(); }
void Harness::perform(const Json& job) { impl_->perform(job); }

std::size_t Harness::drain(std::string_view job_class) {
  std::size_t ran = 0;
  while (auto job = impl_->take_next(job_class)) {
    impl_->perform(*job);
    ++ran;
  }
  return ran;
}

}  // namespace kiq::testing
