// A minimal protobuf wire-format writer: just what kiq's OTLP encoder needs (varints, fixed64,
// fixed32, doubles, length-delimited bytes and nested messages), writing into a std::string.
//
// Output is canonical (minimal varints, fields in the order written), so a caller that writes
// fields in field-number order and skips proto3 defaults produces the same bytes as
// SerializeToString of the equivalent generated message.
//
// Nested messages are back-patched: begin_message() writes the tag and reserves a guessed number
// of bytes for the length; end_message() writes the real length and, if it needs another number
// of bytes than reserved, shifts the body (a short memmove of that message only). Callers that
// know a message's exact size write its header with raw_tag()/raw_varint() instead.
//
// Two ways to own the output:
// - ProtoWriter(out, hint): appends past out.size(); `out` is trimmed to what was written by
//   finish() or the destructor.
// - ProtoWriter(buffer, kReuse): writes from offset 0 of a scratch buffer that is never shrunk
//   (kept across batches: no allocation nor zero-fill per batch); written() is the length.
//
// The raw_* calls do not check for room: call room(n) first for everything they will write.
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
  static constexpr std::size_t kMaxVarint = 10;

  // A started nested message; hand it back to end_message().
  struct Mark {
    std::size_t length_at;  // where the length varint goes
    std::size_t reserved;   // bytes reserved for it
  };

  enum Reuse { kReuse };

  // Appends to `out`. `out` holds scratch bytes past the written ones until finish() trims it;
  // `size_hint`: expected output size, made room for at once.
  explicit ProtoWriter(std::string& out, std::size_t size_hint = 0)
      : out_(out), pos_(out.size()), trim_(true) {
    out_.resize(pos_ + size_hint);
  }
  // Writes from the start of `buffer`, whose current size is all scratch; never shrinks it.
  ProtoWriter(std::string& buffer, Reuse) : out_(buffer), pos_(0), trim_(false) {}
  ProtoWriter(const ProtoWriter&) = delete;
  ProtoWriter& operator=(const ProtoWriter&) = delete;
  ~ProtoWriter() { finish(); }

  // Trims `out` to what was written (appending mode; also done by the destructor).
  void finish() {
    if (trim_) out_.resize(pos_);
  }
  // Bytes written (in reuse mode: the length of the output at the start of the buffer).
  std::size_t written() const { return pos_; }
  const char* data() const { return out_.data(); }

  void varint_field(int field, std::uint64_t value) {
    room(2 * kMaxVarint);
    tag(field, kVarint);
    raw_varint(value);
  }
  // int64 / enum fields: negative values are 10-byte two's-complement varints, as protobuf does.
  void int64_field(int field, std::int64_t value) {
    varint_field(field, static_cast<std::uint64_t>(value));
  }
  void bool_field(int field, bool value) { varint_field(field, value ? 1 : 0); }
  void fixed64_field(int field, std::uint64_t value) {
    room(kMaxVarint + 8);
    tag(field, kFixed64);
    raw_fixed(value, 8);
  }
  void fixed32_field(int field, std::uint32_t value) {
    room(kMaxVarint + 4);
    tag(field, kFixed32);
    raw_fixed(value, 4);
  }
  void double_field(int field, double value) { fixed64_field(field, double_bits(value)); }
  void bytes_field(int field, std::string_view bytes) {
    room(2 * kMaxVarint + bytes.size());
    tag(field, kLengthDelimited);
    raw_varint(bytes.size());
    raw_bytes(bytes);
  }
  // Bytes that already are encoded fields (e.g. a cached sub-message with its tag and length).
  void encoded(std::string_view bytes) {
    room(bytes.size());
    raw_bytes(bytes);
  }

  // `expected_size`: a guess of the body size, used to reserve the length's bytes.
  Mark begin_message(int field, std::size_t expected_size = 0) {
    const std::size_t reserved = varint_size(expected_size);
    room(kMaxVarint + reserved);
    tag(field, kLengthDelimited);
    Mark mark{pos_, reserved};
    pos_ += reserved;
    return mark;
  }
  // Returns the body's length.
  std::size_t end_message(Mark mark) {
    const std::size_t body_at = mark.length_at + mark.reserved;
    const std::size_t length = pos_ - body_at;
    const std::size_t needed = varint_size(length);
    if (needed != mark.reserved) {  // the guess was off: shift the body
      if (needed > mark.reserved) room(needed - mark.reserved);
      char* data = out_.data();
      std::memmove(data + mark.length_at + needed, data + body_at, length);
      pos_ = mark.length_at + needed + length;
    }
    write_varint(out_.data() + mark.length_at, length);
    return length;
  }

  // Room for `n` more bytes at the cursor (geometric growth; bytes past the cursor are scratch).
  void room(std::size_t n) {
    if (pos_ + n > out_.size()) grow(n);
  }
  // Unchecked writes (see room()).
  void raw_tag(int field, std::uint32_t wire_type) {
    raw_varint((static_cast<std::uint64_t>(field) << 3) | wire_type);
  }
  void raw_varint(std::uint64_t v) {
    pos_ = static_cast<std::size_t>(write_varint(out_.data() + pos_, v) - out_.data());
  }
  void raw_bytes(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(out_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
  }
  // For writers of a fixed layout: the cursor, written through directly (put_varint), then
  // where the writing ended (both unchecked, see room()). Writing through a local pointer lets
  // the compiler keep it in a register (stores through char* may alias the writer's fields).
  char* cursor() { return out_.data() + pos_; }
  void advance_to(const char* end) { pos_ = static_cast<std::size_t>(end - out_.data()); }
  static char* put_varint(char* p, std::uint64_t v) { return write_varint(p, v); }
  void raw_fixed(std::uint64_t v, std::size_t n) {
    char* p = out_.data() + pos_;
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    pos_ += n;
  }

  static std::size_t varint_size(std::uint64_t v) {
    if (v < 0x80) return 1;  // nearly every tag and length
    // 1 + floor(log2(v | 1) / 7): one byte per started group of 7 bits.
    const int bits = 64 - __builtin_clzll(v | 1);
    return static_cast<std::size_t>((bits + 6) / 7);
  }
  // Size of a length-delimited field: tag + length varint + body.
  static std::size_t delimited_size(int field, std::size_t body) {
    return tag_size(field) + varint_size(body) + body;
  }
  static std::size_t tag_size(int field) {
    return varint_size(static_cast<std::uint64_t>(field) << 3);
  }
  static std::uint64_t double_bits(double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
  }

 private:
  void grow(std::size_t n) { out_.resize(std::max(2 * out_.size(), pos_ + n + 256)); }

  static char* write_varint(char* p, std::uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }
  void tag(int field, std::uint32_t wire_type) { raw_tag(field, wire_type); }

  std::string& out_;
  std::size_t pos_;  // end of what was written
  bool trim_;
};

}  // namespace kiq::otel::otlp
