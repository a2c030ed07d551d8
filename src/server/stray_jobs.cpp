// Stray-job sweep (see stray_jobs.hpp).
#include "server/stray_jobs.hpp"

#include <vector>

namespace kiq::server {
namespace {

std::string key_of(const FetchedJob& job) { return job.queue + '\n' + job.payload; }

}  // namespace

std::size_t StraySweeper::sweep(Store& store, std::string_view self, std::span<const FetchedJob> held,
                                Clock::time_point now) {
  // Multiset difference: in the store's list minus what the process holds.
  std::map<std::string, std::size_t> stray;
  for (const FetchedJob& job : store.in_progress(self)) ++stray[key_of(job)];
  for (const FetchedJob& job : held) {
    auto it = stray.find(key_of(job));
    if (it != stray.end() && --it->second == 0) stray.erase(it);
  }

  std::map<std::string, std::pair<std::size_t, Clock::time_point>> still;
  std::vector<FetchedJob> overdue;
  for (const auto& [key, copies] : stray) {
    auto seen = suspects_.find(key);
    Clock::time_point since = seen != suspects_.end() ? seen->second.second : now;
    if (now - since < grace_) {
      still.emplace(key, std::make_pair(copies, since));
      continue;
    }
    std::size_t cut = key.find('\n');
    for (std::size_t i = 0; i < copies; ++i) overdue.push_back({key.substr(0, cut), key.substr(cut + 1)});
  }
  if (!overdue.empty()) store.requeue(self, overdue);
  suspects_ = std::move(still);  // only after the requeue succeeded: a failure keeps them suspect
  return overdue.size();
}

}  // namespace kiq::server
