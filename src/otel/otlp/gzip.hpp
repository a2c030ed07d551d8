// gzip (RFC 1952) compression of request bodies, for Content-Encoding: gzip.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiq::otel::otlp {

// nullopt only if zlib fails (out of memory).
std::optional<std::string> gzip_compress(std::string_view data);
// nullopt on malformed input; used by tests and for gzip-encoded responses.
std::optional<std::string> gzip_decompress(std::string_view data);

}  // namespace kiq::otel::otlp
