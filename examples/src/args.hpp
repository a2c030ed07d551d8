// Argument readers for the example jobs: clear std::invalid_argument on bad input.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "kiq/middleware.hpp"

namespace kiq::examples::detail {

inline const Json& arg(const char* job, const Json& args, std::size_t i, const char* name) {
  if (!args.is_array() || args.size() <= i)
    throw std::invalid_argument(fmt::format("{}: missing argument {} ({})", job, i, name));
  return args[i];
}

inline std::int64_t int_arg(const char* job, const Json& args, std::size_t i, const char* name) {
  const Json& v = arg(job, args, i, name);
  if (!v.is_number_integer())
    throw std::invalid_argument(fmt::format("{}: argument {} ({}) must be an integer, got {}", job, i, name, v.dump()));
  return v.get<std::int64_t>();
}

inline std::string string_arg(const char* job, const Json& args, std::size_t i, const char* name) {
  const Json& v = arg(job, args, i, name);
  if (!v.is_string())
    throw std::invalid_argument(fmt::format("{}: argument {} ({}) must be a string, got {}", job, i, name, v.dump()));
  return v.get<std::string>();
}

}  // namespace kiq::examples::detail
