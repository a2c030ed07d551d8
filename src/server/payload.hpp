// Reading a raw queue entry safely: the one place where bytes from Redis become a job hash.
//
// Anything may sit in a queue (another client's bug, a hand-made LPUSH, a truncated write). The
// processor must turn every entry into either a job hash or a clear, specific error for the
// dead set. Besides invalid JSON this guards against JSON nested so deeply that copying or
// serializing it (both recursive in nlohmann::json) would overflow a worker's stack and crash
// the server -- and, since the entry would then be recovered and fetched again, every server
// after it (a poison pill).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kiq/middleware.hpp"

namespace kiq::server {

// Deeper than any real job; shallow enough for recursive copies on any thread's stack.
inline constexpr std::size_t kMaxJsonDepth = 512;

// Greatest nesting depth of arrays/objects in JSON text, ignoring brackets inside strings.
// Stops scanning once `limit` is exceeded (then returns limit + 1). Does not validate the JSON.
std::size_t json_depth(std::string_view text, std::size_t limit = kMaxJsonDepth);

struct ParsedPayload {
  Json job;           // the parsed value (any JSON type) when error is empty
  std::string error;  // what is wrong, e.g. "job payload is not valid JSON: ... at byte 7"
  bool ok() const { return error.empty(); }
};

// Parses a raw queue entry; never throws for bad input.
ParsedPayload parse_payload(std::string_view raw);

}  // namespace kiq::server
