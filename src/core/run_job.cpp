#include "core/run_job.hpp"

#include <functional>

namespace kiq::detail {

namespace {
void invoke(const ServerChain& chain, std::size_t i, JobContext& ctx, const JobType& type) {
  const auto& entries = chain.entries();
  if (i == entries.size()) {
    type.perform(ctx, ctx.args());
    return;
  }
  entries[i]->call(ctx, [&] { invoke(chain, i + 1, ctx, type); });
}
}  // namespace

void run_job(const ServerChain& chain, JobContext& ctx, const JobType& type) {
  invoke(chain, 0, ctx, type);
}

}  // namespace kiq::detail
