// Attribute values and attribute lists (OpenTelemetry common attribute model).
//
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kiq::otel {

// bool, int64, double, string, or a homogeneous array of one of them.
// Construction from a string literal yields a string (C++20 variant converting rules),
// from any integer an int64.
using AttributeValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<bool>,
                 std::vector<std::int64_t>, std::vector<double>, std::vector<std::string>>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// Ordered list; keys are unique in what the SDK records (a later set replaces the earlier value).
using Attributes = std::vector<Attribute>;

}  // namespace kiq::otel
