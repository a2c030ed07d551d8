// kiq: everything a job application needs, in one include.
#pragma once

#include "kiq/client.hpp"
#include "kiq/job.hpp"
#include "kiq/middleware.hpp"
#include "kiq/retry.hpp"
#include "kiq/server.hpp"
#include "kiq/store.hpp"
#include "kiq/store/memory.hpp"

namespace kiq {
// Reported as "version" in the heartbeat's info (Sidekiq 7 Web UI shows it).
inline constexpr const char* kVersion = "0.1.0";
}  // namespace kiq
