// Stray-job sweep (see stray_jobs.hpp).
#include "server/stray_jobs.hpp"

#include <algorithm>
#include <vector>

namespace kiq::server {
namespace {

std::string key_of(const FetchedJob& job) { return job.queue + '\n' + job.payload; }

}  // namespace

std::size_t StraySweeper::sweep(Store& store, std::string_view self, std::span<const FetchedJob> held,
                                Clock::time_point now) {
  // Multiset difference: in the store's list minus what the process holds (matched by queue
  // and payload; the store's entries keep their tokens for the requeue).
  std::map<std::string, std::vector<FetchedJob>> stray;
  for (FetchedJob& job : store.in_progress(self)) stray[key_of(job)].push_back(std::move(job));
  for (const FetchedJob& job : held) {
    auto it = stray.find(key_of(job));
    if (it == stray.end()) continue;
    std::vector<FetchedJob>& copies = it->second;
    // The held job's own entry when the tokens tell it apart, else any copy.
    auto own = std::find_if(copies.begin(), copies.end(),
                            [&](const FetchedJob& c) { return c.token == job.token; });
    copies.erase(own != copies.end() ? own : copies.end() - 1);
    if (copies.empty()) stray.erase(it);
  }

  std::map<std::string, std::pair<std::size_t, Clock::time_point>> still;
  std::vector<FetchedJob> overdue;
  for (auto& [key, copies] : stray) {
    auto seen = suspects_.find(key);
    Clock::time_point since = seen != suspects_.end() ? seen->second.second : now;
    if (now - since < grace_) {
      still.emplace(key, std::make_pair(copies.size(), since));
      continue;
    }
    for (FetchedJob& job : copies) overdue.push_back(std::move(job));
  }
  if (!overdue.empty()) store.requeue(self, overdue);
  suspects_ = std::move(still);  // only after the requeue succeeded: a failure keeps them suspect
  return overdue.size();
}

}  // namespace kiq::server
