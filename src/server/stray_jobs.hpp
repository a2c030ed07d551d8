// Stray jobs: entries of this LIVE process's in-progress lists that no part of the process holds
// any more. They appear when Redis goes away at the wrong moment: an ack / retry / dead hand-off
// that failed after the job ran, or a fetch whose reply was lost although Redis had already
// moved the jobs. Orphan recovery never touches a live process, so without this sweep such a job
// would wait for the process to die. An entry that has been stray for `grace` (far longer than a
// job can legitimately sit between fetch and buffer, or between finishing and its ack) goes back
// to the consumer end of its queue. It may thus run twice: at-least-once, as after a crash.
//
// Thread-safety: not thread-safe; one StraySweeper per server, used by one thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "kiq/store.hpp"

namespace kiq::server {

class StraySweeper {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StraySweeper(std::chrono::milliseconds grace = std::chrono::seconds(10)) : grace_(grace) {}

  // `held`: the jobs the process holds now (buffered or running). Requeues entries stray for at
  // least `grace` and returns how many. Throws StoreError when the store is unreachable.
  std::size_t sweep(Store& store, std::string_view self, std::span<const FetchedJob> held,
                    Clock::time_point now = Clock::now());

 private:
  std::chrono::milliseconds grace_;
  // queue + '\n' + payload -> (copies stray, first seen stray)
  std::map<std::string, std::pair<std::size_t, Clock::time_point>> suspects_;
};

}  // namespace kiq::server
