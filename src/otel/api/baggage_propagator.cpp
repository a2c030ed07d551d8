#include <string>

#include "kiq/otel/propagation.hpp"
#include "otel/internal/hex.hpp"
#include "otel/internal/text.hpp"

namespace kiq::otel {
namespace {

constexpr char kBaggageHeader[] = "baggage";

// RFC 7230 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// baggage-octet: 0x21 / 0x23-2B / 0x2D-3A / 0x3C-5B / 0x5D-7E.
bool is_baggage_octet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
         (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int any_hex_value(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return internal::lower_hex_value(c);
}

// Replaces invalid UTF-8 sequences with U+FFFD (W3C baggage: decode errors -> replacement).
std::string sanitize_utf8(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len == 2) ok = c >= 0xc2;  // overlong
    if (ok && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
    }
    if (ok && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90) && c <= 0xf4;
    }
    if (ok) {
      out.append(in, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Percent-decodes a baggage value; nullopt on a char outside baggage-octet or a bad escape.
std::optional<std::string> decode_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (!is_baggage_octet(c)) return std::nullopt;
    if (c != '%') {
      out += static_cast<char>(c);
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;  // truncated escape
    int hi = any_hex_value(v[i + 1]);
    int lo = any_hex_value(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return sanitize_utf8(out);
}

// Percent-encodes everything outside baggage-octet, plus '%' itself and '=' (legal, but some
// parsers split values on every '=').
void encode_value(std::string_view v, std::string& out) {
  for (char ch : v) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (is_baggage_octet(c) && c != '%' && c != '=') {
      out += ch;
    } else {
      out += '%';
      out += "0123456789ABCDEF"[c >> 4];
      out += "0123456789ABCDEF"[c & 0xf];
    }
  }
}

// Properties after the first ';': each `key OWS [= OWS value]`, trimmed; invalid -> nullopt.
std::optional<std::string> parse_properties(std::string_view props) {
  std::string out;
  bool ok = true;
  internal::split(props, ';', [&](std::string_view p) {
    if (!ok) return;
    p = internal::trim_ows(p);
    auto eq = p.find('=');
    std::string_view key = internal::trim_ows(p.substr(0, eq));
    if (!is_token(key)) {
      ok = false;
      return;
    }
    if (!out.empty()) out += ';';
    out += key;
    if (eq != std::string_view::npos) {
      std::string_view value = internal::trim_ows(p.substr(eq + 1));
      for (char c : value) {
        if (!is_baggage_octet(static_cast<unsigned char>(c))) ok = false;
      }
      out += '=';
      out += value;
    }
  });
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

Baggage BaggagePropagator::parse(std::string_view header, const Baggage& base) {
  Baggage out = base;
  std::size_t members = 0;
  std::size_t bytes = 0;
  internal::split(header, ',', [&](std::string_view member) {
    if (members >= kMaxMembers) return;
    bytes += member.size() + 1;
    if (bytes > kMaxBytes + 1) return;  // beyond the size limit: drop the rest
    member = internal::trim_ows(member);
    if (member.empty()) return;
    auto semi = member.find(';');
    std::string_view kv = member.substr(0, semi);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) return;  // invalid member: skipped
    std::string_view key = internal::trim_ows(kv.substr(0, eq));
    std::string_view raw_value = internal::trim_ows(kv.substr(eq + 1));
    if (!is_token(key)) return;
    auto value = decode_value(raw_value);
    if (!value) return;
    std::string metadata;
    if (semi != std::string_view::npos) {
      auto props = parse_properties(member.substr(semi + 1));
      if (!props) return;
      metadata = std::move(*props);
    }
    ++members;
    out = out.set(key, *value, metadata);
  });
  return out;
}

std::string BaggagePropagator::format(const Baggage& baggage) {
  std::string out;
  std::size_t members = 0;
  for (const auto& e : baggage.entries()) {
    if (!is_token(e.name)) continue;  // cannot be represented on the wire
    std::string member = e.name + "=";
    encode_value(e.value, member);
    if (!e.metadata.empty()) {
      member += ';';
      member += e.metadata;
    }
    if (members >= kMaxMembers || out.size() + member.size() + 1 > kMaxBytes) break;
    if (!out.empty()) out += ',';
    out += member;
    ++members;
  }
  return out;
}

void BaggagePropagator::inject(const Context& context, TextMapCarrier& carrier) const {
  if (context.baggage().empty()) return;
  std::string header = format(context.baggage());
  if (!header.empty()) carrier.set(kBaggageHeader, header);
}

Context BaggagePropagator::extract(const TextMapCarrier& carrier, const Context& context) const {
  if (carrier.single_valued()) {
    auto header = carrier.get(kBaggageHeader);
    if (!header) return context;
    return context.with_baggage(parse(*header, context.baggage()));
  }
  auto headers = carrier.get_all(kBaggageHeader);
  if (headers.empty()) return context;
  // Extracted entries are layered over the baggage already in `context`.
  Baggage baggage = context.baggage();
  for (auto h : headers) baggage = parse(h, baggage);
  return context.with_baggage(std::move(baggage));
}

}  // namespace kiq::otel
