#include "core/job_text.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace kiq {

namespace {

std::string dump(const Json& value) {
  try {
    return value.dump();
  } catch (const Json::exception& e) {
    throw std::invalid_argument(fmt::format("kiq: job cannot be serialized: {}", e.what()));
  }
}

// Appends `"key":value` as Json::dump writes an object member (compact, same escaping).
void append_member(std::string& out, const std::string& key, const Json& value) {
  if (!out.empty()) out += ',';
  out += dump(Json(key));
  out += ':';
  out += dump(value);
}

}  // namespace

JobTextTemplate::JobTextTemplate(const Json& shared) {
  if (!shared.is_object()) throw std::invalid_argument("kiq: job must be a JSON object");
  // nlohmann's object is a std::map<std::string, ...>: members come out in std::string order,
  // which is also the order the three groups below are compared in.
  const std::string args_key = "args", jid_key = "jid";
  std::string before, between, after;
  for (const auto& [key, value] : shared.items()) {
    if (key == args_key || key == jid_key) continue;
    append_member(key < args_key ? before : key < jid_key ? between : after, key, value);
  }
  // Plain appends (operator+ chains here trip GCC 12's -Wrestrict false positive).
  head_.append("{").append(before).append(before.empty() ? "" : ",").append("\"args\":");
  middle_.append(between.empty() ? "" : ",").append(between).append(",\"jid\":\"");
  tail_.append("\"").append(after.empty() ? "" : ",").append(after).append("}");
}

std::string JobTextTemplate::render(const Json& args, std::string_view jid) const {
  std::string out;
  render_into(out, args, jid);
  return out;
}

void JobTextTemplate::render_into(std::string& out, const Json& args, std::string_view jid) const {
  // Empty args (the common bulk case) skip the serializer and its temporary string.
  const bool empty_array = args.is_array() && args.empty();
  const std::string args_text = empty_array ? std::string("[]") : dump(args);
  out.clear();
  out.reserve(head_.size() + args_text.size() + middle_.size() + jid.size() + tail_.size());
  out += head_;
  out += args_text;
  out += middle_;
  out += jid;
  out += tail_;
}

}  // namespace kiq
