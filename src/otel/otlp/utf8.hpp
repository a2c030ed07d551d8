// UTF-8 validation for OTLP string fields. proto3 `string` must be valid UTF-8: collectors
// reject (HTTP 400) a whole batch with one bad string, so kiq repairs strings before encoding.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace kiq::otel::otlp {

bool valid_utf8(std::string_view s);
// `s` with every invalid sequence replaced by U+FFFD; `s` itself when already valid.
std::string to_valid_utf8(std::string_view s);

}  // namespace kiq::otel::otlp
