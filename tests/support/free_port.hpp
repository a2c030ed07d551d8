// A currently free TCP port on 127.0.0.1, found by binding port 0 and closing again.
// The port may be taken by someone else before the caller binds it: callers that spawn a
// server must detect a failed bind and retry with a new port (RedisServer does).
//
// Thread-safety: safe to call from any thread.
#pragma once

namespace kiq::testing {

// Throws std::runtime_error if no socket can be bound.
int free_port();

}  // namespace kiq::testing
