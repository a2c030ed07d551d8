// Raw queue entry -> job hash or a clear error (see payload.hpp).
#include "server/payload.hpp"

#include <fmt/format.h>
#include <simdjson.h>

namespace kiq::server {
namespace {

// simdjson -> Json. Depth is bounded by the parser's max_depth (see fast_parse).
Json to_json(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      Json out = Json::object();
      simdjson::dom::object object;
      if (e.get_object().get(object) != simdjson::SUCCESS) return nullptr;  // cannot happen: typed
      for (auto field : object)
        out[std::string(field.key)] = to_json(field.value);  // a repeated key: the last wins, as in nlohmann
      return out;
    }
    case simdjson::dom::element_type::ARRAY: {
      Json out = Json::array();
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) return nullptr;
      for (auto item : array) out.push_back(to_json(item));
      return out;
    }
    case simdjson::dom::element_type::STRING: return std::string(e.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64: return e.get_int64().value_unsafe();
    case simdjson::dom::element_type::UINT64: return e.get_uint64().value_unsafe();
    case simdjson::dom::element_type::DOUBLE: return e.get_double().value_unsafe();
    case simdjson::dom::element_type::BOOL: return e.get_bool().value_unsafe();
    case simdjson::dom::element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

// The hot path: simdjson parses a valid job hash several times faster than nlohmann's lexer
// (which was ~30% of a no-op job's CPU). Anything it rejects -- invalid JSON or UTF-8, too
// deep, integers beyond 64 bits -- goes to the nlohmann path below, which decides and words
// the error exactly as before. Its max depth is below kMaxJsonDepth by a margin, so whatever
// it accepts passes the json_depth check too.
bool fast_parse(std::string_view raw, Json& out) {
  // One parser per thread: it keeps its buffers between jobs (a worker's scratch space).
  thread_local simdjson::dom::parser parser(simdjson::SIMDJSON_MAXSIZE_BYTES);
  thread_local bool depth_set = parser.allocate(4096, kMaxJsonDepth - 2) == simdjson::SUCCESS;
  if (!depth_set) return false;
  simdjson::dom::element root;
  if (parser.parse(raw.data(), raw.size(), true).get(root) != simdjson::SUCCESS) return false;
  out = to_json(root);
  return true;
}

}  // namespace

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
  if (fast_parse(raw, out.job)) return out;
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
