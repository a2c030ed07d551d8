// A minimal protobuf wire-format writer: just what kiq's OTLP encoder needs (varints, fixed64,
// fixed32, doubles, length-delimited bytes and nested messages), appending to a std::string.
//
// Output is canonical (minimal varints, fields in the order written), so a caller that writes
// fields in field-number order and skips proto3 defaults produces the same bytes as
// SerializeToString of the equivalent generated message.
//
// Nested messages are back-patched: begin_message() writes the tag and reserves a guessed number
// of bytes for the length; end_message() writes the real length and, if it needs another number
// of bytes than reserved, shifts the body (a short memmove of that message only).
//
// Thread-safety: none; one writer per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kiq::otel::otlp {

class ProtoWriter {
 public:
  // Wire types (protobuf encoding spec).
  static constexpr std::uint32_t kVarint = 0;
  static constexpr std::uint32_t kFixed64 = 1;
  static constexpr std::uint32_t kLengthDelimited = 2;
  static constexpr std::uint32_t kFixed32 = 5;

  // A started nested message; hand it back to end_message().
  struct Mark {
    std::size_t length_at;  // where the length varint goes
    std::size_t reserved;   // bytes reserved for it
  };

  explicit ProtoWriter(std::string& out) : out_(out) {}

  void varint_field(int field, std::uint64_t value) {
    tag(field, kVarint);
    varint(value);
  }
  // int64 / enum fields: negative values are 10-byte two's-complement varints, as protobuf does.
  void int64_field(int field, std::int64_t value) {
    varint_field(field, static_cast<std::uint64_t>(value));
  }
  void bool_field(int field, bool value) { varint_field(field, value ? 1 : 0); }
  void fixed64_field(int field, std::uint64_t value) {
    tag(field, kFixed64);
    little_endian(value, 8);
  }
  void fixed32_field(int field, std::uint32_t value) {
    tag(field, kFixed32);
    little_endian(value, 4);
  }
  void double_field(int field, double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(int field, std::string_view bytes) {
    tag(field, kLengthDelimited);
    varint(bytes.size());
    out_.append(bytes.data(), bytes.size());
  }

  // `expected_size`: a guess of the body size, used to reserve the length's bytes.
  Mark begin_message(int field, std::size_t expected_size = 0) {
    tag(field, kLengthDelimited);
    Mark mark{out_.size(), varint_size(expected_size)};
    out_.append(mark.reserved, '\0');
    return mark;
  }
  void end_message(Mark mark) {
    const std::size_t body_at = mark.length_at + mark.reserved;
    const std::size_t length = out_.size() - body_at;
    const std::size_t needed = varint_size(length);
    if (needed != mark.reserved) {
      if (needed > mark.reserved) out_.append(needed - mark.reserved, '\0');
      char* data = out_.data();
      std::memmove(data + mark.length_at + needed, data + body_at, length);
      if (needed < mark.reserved) out_.resize(mark.length_at + needed + length);
    }
    char* at = out_.data() + mark.length_at;
    std::uint64_t v = length;
    while (v >= 0x80) {
      *at++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *at = static_cast<char>(v);
  }

  static std::size_t varint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

 private:
  void tag(int field, std::uint32_t wire_type) {
    varint((static_cast<std::uint64_t>(field) << 3) | wire_type);
  }
  void varint(std::uint64_t v) {
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void little_endian(std::uint64_t v, std::size_t n) {
    char buf[8];
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_.append(buf, n);
  }

  std::string& out_;
};

}  // namespace kiq::otel::otlp
