// error_backtrace encoding: base64(zlib deflate(JSON array of strings)), as Sidekiq stores it.
#include <execinfo.h>
#include <zlib.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "kiq/retry.hpp"

namespace kiq {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = std::uint8_t(in[i]) << 16;
    if (rest == 2) v |= std::uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Lenient like Ruby's Base64.decode64 for whitespace; strict about other characters.
std::string base64_decode(std::string_view in) {
  std::array<int, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = i;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') break;
    int v = value[static_cast<unsigned char>(c)];
    if (v < 0) throw std::invalid_argument("kiq: error_backtrace is not base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string zlib_deflate(std::string_view in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  std::string out(size, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()),
                     Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) throw std::runtime_error("kiq: zlib compress failed");
  out.resize(size);
  return out;
}

std::string zlib_inflate(std::string_view in) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw std::runtime_error("kiq: zlib init failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  std::array<char, 16384> buf;
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END)
      throw std::invalid_argument("kiq: error_backtrace is not zlib data");
    out.append(buf.data(), buf.size() - zs.avail_out);
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  if (rc != Z_STREAM_END) throw std::invalid_argument("kiq: error_backtrace zlib data is truncated");
  return out;
}

}  // namespace

std::string encode_backtrace(const std::vector<std::string>& lines) {
  Json array = Json::array();
  for (const auto& line : lines) array.push_back(scrub_utf8(line, 10000));
  return base64_encode(zlib_deflate(array.dump()));
}

std::vector<std::string> decode_backtrace(std::string_view encoded) {
  Json array = Json::parse(zlib_inflate(base64_decode(encoded)), nullptr, false);
  if (!array.is_array()) throw std::invalid_argument("kiq: error_backtrace is not a JSON array");
  std::vector<std::string> lines;
  for (const auto& line : array) lines.push_back(line.is_string() ? line.get<std::string>() : line.dump());
  return lines;
}

std::vector<std::string> current_backtrace(int skip) {
  std::array<void*, 64> frames;
  int n = ::backtrace(frames.data(), static_cast<int>(frames.size()));
  std::unique_ptr<char*, decltype(&std::free)> symbols(::backtrace_symbols(frames.data(), n), &std::free);
  std::vector<std::string> lines;
  if (!symbols) return lines;
  for (int i = 1 + skip; i < n; ++i) lines.emplace_back(symbols.get()[i]);
  return lines;
}

}  // namespace kiq
