// Test mode (Sidekiq::Testing): run jobs without a server.
//
//   kiq::testing::Harness h(registry, kiq::testing::Mode::kInline, server_chain, client_chain);
//   h.client().perform_async("HardJob", {1});   // inline: ran already, in this thread
//
//   kiq::testing::Harness f(registry, kiq::testing::Mode::kFake);
//   f.client().perform_async("HardJob", {1});   // fake: collected
//   EXPECT_EQ(f.jobs("HardJob").size(), 1);
//   f.drain();                                   // runs them (and what they enqueue)
//
// Jobs run through the server middleware chain with a real JobContext (client(), kv() work; the
// key-value data lives in an embedded MemoryStore). Exceptions from a job propagate to the caller
// (inline: out of perform_async; fake: out of drain), as in Sidekiq's test modes; nothing is
// retried. Scheduled jobs (perform_in/at) are treated like immediate ones.
//
// Thread-safety: a Harness is meant for one test thread; jobs that enqueue from other threads
// are safe (pushes are serialized), but drain()/jobs() must not race with each other.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiq/client.hpp"
#include "kiq/job.hpp"
#include "kiq/middleware.hpp"
#include "kiq/store.hpp"

namespace kiq::testing {

enum class Mode {
  kFake,    // collect pushed jobs; drain() runs them
  kInline,  // run each job immediately in the pushing thread
};

class Harness {
 public:
  // `registry` must outlive the harness.
  Harness(const JobRegistry& registry, Mode mode, ServerChain server_middleware = {},
          ClientChain client_middleware = {});
  ~Harness();

  Client& client();
  Store& store();  // the embedded store behind kv() (queues stay empty: pushes are intercepted)
  Mode mode() const;
  void set_mode(Mode mode);

  // Fake mode: collected, not yet run job hashes (all classes, or one), oldest first.
  std::vector<Json> jobs(std::string_view job_class = {}) const;
  std::size_t size() const;
  // Runs collected jobs oldest first, including jobs they enqueue, until none is left (or, with
  // a class, until none of that class is left). Returns how many ran.
  std::size_t drain(std::string_view job_class = {});
  void clear();

  // Runs one job hash now (both modes), through the server middleware.
  void perform(const Json& job);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiq::testing
