// Redis URL parsing: redis://[[user]:password@]host[:port][/db][?db=N&password=..],
// unix:///path.sock[?db=N&password=..]. rediss:// is refused (no TLS in hiredis 0.14).
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>

#include "kiq/store/redis.hpp"

namespace kiq {
namespace {

[[noreturn]] void bad(std::string_view url, const std::string& problem) {
  throw std::invalid_argument("invalid Redis URL '" + std::string(url) + "': " + problem);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view url, std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) bad(url, "bad percent-escape in user info");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Parses a non-negative decimal integer in [lo, hi]; nullopt otherwise.
std::optional<int> parse_int(std::string_view s, int lo, int hi) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

void parse_query(std::string_view url, std::string_view query, RedisUrl& out) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (key == "db") {
      auto db = parse_int(value, 0, 1 << 20);
      if (!db) bad(url, "database '" + std::string(value) + "' is not a non-negative integer");
      out.db = *db;
    } else if (key == "password") {
      out.password = percent_decode(url, value);
    } else {
      bad(url, "unknown parameter '" + std::string(key) + "' (supported: db, password)");
    }
  }
}

RedisUrl parse_unix(std::string_view url, std::string_view rest) {
  RedisUrl out;
  auto q = rest.find('?');
  out.unix_path = std::string(rest.substr(0, q));
  if (out.unix_path.empty() || out.unix_path.front() != '/') {
    bad(url, "unix socket path must be absolute (unix:///path/to/redis.sock)");
  }
  if (q != std::string_view::npos) parse_query(url, rest.substr(q + 1), out);
  return out;
}

RedisUrl parse_tcp(std::string_view url, std::string_view rest) {
  RedisUrl out;
  auto q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  rest = rest.substr(0, q);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      out.user = percent_decode(url, userinfo);  // user without password: no AUTH possible
    } else {
      out.user = percent_decode(url, userinfo.substr(0, colon));
      out.password = percent_decode(url, userinfo.substr(colon + 1));
    }
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:6379
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad(url, "unterminated '[' in IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad(url, "unexpected characters after IPv6 host");
      port = after.substr(1);
      if (port.empty()) bad(url, "empty port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) bad(url, "empty port");
  }
  if (host.empty()) bad(url, "missing host");
  out.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_int(port, 1, 65535);
    if (!p) bad(url, "port '" + std::string(port) + "' is not a number in 1..65535");
    out.port = *p;
  }
  if (!path.empty()) {
    auto db = parse_int(path, 0, 1 << 20);
    if (!db) bad(url, "database '" + std::string(path) + "' is not a non-negative integer");
    out.db = *db;
  }
  parse_query(url, query, out);
  return out;
}

}  // namespace

RedisUrl parse_redis_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) bad(url, "expected redis://host[:port][/db] or unix:///path");
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  if (scheme == "redis") return parse_tcp(url, rest);
  if (scheme == "unix" || scheme == "redis+unix") return parse_unix(url, rest);
  if (scheme == "rediss") {
    bad(url, "TLS (rediss://) is not supported: this hiredis (0.14) has no TLS; use redis:// "
             "through a local TLS tunnel");
  }
  bad(url, "unsupported scheme '" + std::string(scheme) + "' (expected redis:// or unix://)");
}

std::string RedisUrl::describe() const {
  if (!unix_path.empty()) return "unix://" + unix_path + "?db=" + std::to_string(db);
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "redis://" + h + ":" + std::to_string(port) + "/" + std::to_string(db);
}

}  // namespace kiq
