// Running one job through the server middleware chain (shared by the server and test mode).
#pragma once

#include "kiq/job.hpp"
#include "kiq/middleware.hpp"

namespace kiq::detail {

// Invokes chain[0] .. chain[n-1] around `type.perform(ctx, ctx.args())`. Exceptions propagate.
// A middleware that does not call next() skips the job (Sidekiq semantics).
void run_job(const ServerChain& chain, JobContext& ctx, const JobType& type);

}  // namespace kiq::detail
