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
// Output goes into `out` past its current end; `out` is sized to what was written when the
// writer is finished (finish() or destruction).
//
// Thread-safety: none; one writer per thread.
#pragma once

#include <algorithm>
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

  // Appends to `out`. `out` holds scratch bytes past the written ones until finish() trims it;
  // `size_hint`: expected output size, made room for at once.
  explicit ProtoWriter(std::string& out, std::size_t size_hint = 0)
      : out_(out), pos_(out.size()) {
    out_.resize(pos_ + size_hint);
  }
  ProtoWriter(const ProtoWriter&) = delete;
  ProtoWriter& operator=(const ProtoWriter&) = delete;
  ~ProtoWriter() { finish(); }

  // Trims `out` to what was written (also done by the destructor).
  void finish() { out_.resize(pos_); }

  void varint_field(int field, std::uint64_t value) {
    ensure(2 * kMaxVarint);
    tag(field, kVarint);
    varint(value);
  }
  // int64 / enum fields: negative values are 10-byte two's-complement varints, as protobuf does.
  void int64_field(int field, std::int64_t value) {
    varint_field(field, static_cast<std::uint64_t>(value));
  }
  void bool_field(int field, bool value) { varint_field(field, value ? 1 : 0); }
  void fixed64_field(int field, std::uint64_t value) {
    ensure(kMaxVarint + 8);
    tag(field, kFixed64);
    little_endian(value, 8);
  }
  void fixed32_field(int field, std::uint32_t value) {
    ensure(kMaxVarint + 4);
    tag(field, kFixed32);
    little_endian(value, 4);
  }
  void double_field(int field, double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(int field, std::string_view bytes) {
    ensure(2 * kMaxVarint + bytes.size());
    tag(field, kLengthDelimited);
    varint(bytes.size());
    if (!bytes.empty()) std::memcpy(at(), bytes.data(), bytes.size());
    pos_ += bytes.size();
  }

  // `expected_size`: a guess of the body size, used to reserve the length's bytes.
  Mark begin_message(int field, std::size_t expected_size = 0) {
    const std::size_t reserved = varint_size(expected_size);
    ensure(kMaxVarint + reserved);
    tag(field, kLengthDelimited);
    Mark mark{pos_, reserved};
    pos_ += reserved;
    return mark;
  }
  void end_message(Mark mark) {
    const std::size_t body_at = mark.length_at + mark.reserved;
    const std::size_t length = pos_ - body_at;
    const std::size_t needed = varint_size(length);
    if (needed != mark.reserved) {  // the guess was off: shift the body
      if (needed > mark.reserved) ensure(needed - mark.reserved);
      char* data = out_.data();
      std::memmove(data + mark.length_at + needed, data + body_at, length);
      pos_ = mark.length_at + needed + length;
    }
    write_varint(out_.data() + mark.length_at, length);
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
  static constexpr std::size_t kMaxVarint = 10;

  // Room for `n` more bytes at pos_ (geometric growth; the bytes past pos_ are scratch).
  void ensure(std::size_t n) {
    if (pos_ + n > out_.size()) out_.resize(std::max(2 * out_.size(), pos_ + n + 256));
  }
  char* at() { return out_.data() + pos_; }

  static char* write_varint(char* p, std::uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }
  void tag(int field, std::uint32_t wire_type) {
    varint((static_cast<std::uint64_t>(field) << 3) | wire_type);
  }
  void varint(std::uint64_t v) {
    pos_ = static_cast<std::size_t>(write_varint(at(), v) - out_.data());
  }
  void little_endian(std::uint64_t v, std::size_t n) {
    char* p = at();
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    pos_ += n;
  }

  std::string& out_;
  std::size_t pos_;  // end of what was written
};

}  // namespace kiq::otel::otlp
