#include "otel/otlp/gzip.hpp"

#include <zlib.h>

#include <memory>

namespace kiq::otel::otlp {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 15 = 32 KiB window; +16 = gzip header and trailer

struct DeflateStream {
  z_stream z{};
  bool ok = false;
  DeflateStream() {
    ok = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                      Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~DeflateStream() {
    if (ok) deflateEnd(&z);
  }
};

struct InflateStream {
  z_stream z{};
  bool ok = false;
  InflateStream() { ok = inflateInit2(&z, kGzipWindowBits) == Z_OK; }
  ~InflateStream() {
    if (ok) inflateEnd(&z);
  }
};

}  // namespace

std::optional<std::string> gzip_compress(std::string_view data) {
  DeflateStream stream;
  if (!stream.ok) return std::nullopt;
  std::string out(deflateBound(&stream.z, data.size()), '\0');
  stream.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.z.avail_in = static_cast<uInt>(data.size());
  stream.z.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.z.avail_out = static_cast<uInt>(out.size());
  // deflateBound guarantees one Z_FINISH call suffices.
  if (deflate(&stream.z, Z_FINISH) != Z_STREAM_END) return std::nullopt;
  out.resize(stream.z.total_out);
  return out;
}

std::optional<std::string> gzip_decompress(std::string_view data) {
  InflateStream stream;
  if (!stream.ok) return std::nullopt;
  stream.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    stream.z.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.z.avail_out = sizeof buffer;
    rc = inflate(&stream.z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
    out.append(buffer, sizeof buffer - stream.z.avail_out);
    if (rc == Z_OK && stream.z.avail_in == 0 && stream.z.avail_out != 0) return std::nullopt;  // truncated
  }
  return out;
}

}  // namespace kiq::otel::otlp
