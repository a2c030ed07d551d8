// JobTextTemplate: the JSON text of push_bulk's job hashes without a Json object per job.
//
// Every job of one push_bulk chunk shares all keys except "args" and "jid". The shared keys are
// dumped once, by nlohmann (so numbers, escapes and key order are byte-identical to Json::dump
// of the whole hash), and each job is spliced together from those pieces, its args and its jid,
// at the places nlohmann's sorted object order puts "args" and "jid".
#pragma once

#include <string>
#include <string_view>

#include "kiq/middleware.hpp"  // kiq::Json

namespace kiq {

// Thread-safety: immutable after construction; render() may be called from any thread.
class JobTextTemplate {
 public:
  // `shared`: the job hash without its args and jid ("args" / "jid" are ignored if present).
  // Throws std::invalid_argument if `shared` is not an object or cannot be serialized.
  explicit JobTextTemplate(const Json& shared);

  // The text of the whole hash with these args and this jid. The jid is written as it is, so
  // it must not need JSON escaping (new_jid()'s 24 hex digits do not). Throws
  // std::invalid_argument when args cannot be serialized (e.g. invalid UTF-8 in a string).
  std::string render(const Json& args, std::string_view jid) const;
  // The same text written into `out` (replacing its contents, reusing its memory).
  void render_into(std::string& out, const Json& args, std::string_view jid) const;

 private:
  std::string head_;    // {<keys before "args">,"args":
  std::string middle_;  // ,<keys between "args" and "jid">,"jid":"
  std::string tail_;    // ",<keys after "jid">}
};

}  // namespace kiq
