// Raw queue entry -> job hash or a clear error (see payload.hpp).
#include "server/payload.hpp"

#include <fmt/format.h>

namespace kiq::server {

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return limit + 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

ParsedPayload parse_payload(std::string_view raw) {
  ParsedPayload out;
  if (json_depth(raw) > kMaxJsonDepth) {
    out.error = fmt::format("job payload nests JSON deeper than {} levels ({} bytes)", kMaxJsonDepth, raw.size());
    return out;
  }
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore what follows; JSON
  // never contains a raw NUL (not even inside strings), so say so instead.
  if (std::size_t nul = raw.find('\0'); nul != std::string_view::npos) {
    out.error = fmt::format("job payload is not valid JSON ({} bytes): NUL byte at byte {}", raw.size(), nul);
    return out;
  }
  try {
    out.job = Json::parse(raw);
  } catch (const Json::parse_error& e) {
    // e.g. "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error
    // while parsing value - invalid literal; last read: 'he'" (scrubbed to UTF-8 by the caller).
    out.error = fmt::format("job payload is not valid JSON ({} bytes): {}", raw.size(), e.what());
  }
  return out;
}

}  // namespace kiq::server
