// kiq_bench_otlp_sink: the OTLP/HTTP receiver of bench/tracing. Answers 200 (empty body) to
// every POST, counts the spans of each ExportTraceServiceRequest with a minimal protobuf walk,
// and keeps every 10th body (up to 96 MiB of them); on SIGTERM or SIGINT prints "requests <n>
// spans <n> bytes <n> unreadable <n>", writes the kept bodies to the file given as its argument
// (each preceded by its length, 4 bytes little-endian) for decode_bodies.mjs to decode with the
// official definitions, and exits.
//
// Why so small a receiver: it shares the machine's 2 cores with the drain it measures, so its
// CPU is charged to kiq. A Node http server spent ~2.5 us per span and cpp-httplib ~2.2 (4 KiB
// reads, a new buffer per body whose pages fault in: more than kiq's whole tracing cost); a
// collector normally runs elsewhere. This one reads 1 MiB at a time into one reused buffer.
//
// Prints "port <n>" once listening. HTTP/1.1 with Content-Length bodies and keep-alive (what
// kiq's exporter sends); anything else closes the connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

// The kept bodies, already in the file's format (each preceded by its length, 4 bytes
// little-endian), in one buffer reserved and touched before the first request: copying a
// tenth of the bytes into fresh pages (a new allocation per body, its pages faulted in) was
// ~half of this receiver's CPU, charged to the drain it measures. When the buffer is full,
// later bodies are counted but not kept (growing it mid-drain stalled the receiver for a
// quarter of a second). 96 MiB is the tenth of ~18 traced drains of 100,000 spans: ~180,000
// spans for the official decoder.
class KeptBodies {
 public:
  KeptBodies() {
    data_.resize(kCapacity);  // writes every page now
    data_.clear();            // the capacity (and the touched pages) stay
  }
  void add(std::string_view body) {
    if (data_.size() + 4 + body.size() > kCapacity) return;
    const auto n = static_cast<std::uint32_t>(body.size());
    const char length[4] = {static_cast<char>(n), static_cast<char>(n >> 8),
                            static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
    data_.append(length, 4);
    data_.append(body);
  }
  bool write(const std::string& path) const {
    std::ofstream out(path, std::ios::binary);
    out.write(data_.data(), static_cast<std::streamsize>(data_.size()));
    return static_cast<bool>(out);
  }

 private:
  static constexpr std::size_t kCapacity = std::size_t{96} << 20;
  std::string data_;
};

struct Totals {
  std::mutex mu;
  std::uint64_t requests = 0, spans = 0, bytes = 0, unreadable = 0;  // guarded by mu
  KeptBodies kept;                                                  // guarded by mu
};

// Protobuf reading, just enough to find the spans.
struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) break;
      const unsigned char b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  // Calls on_field(field, body) for each length-delimited field; skips the others.
  template <class F>
  void fields(F&& on_field) {
    while (ok && p < end) {
      const std::uint64_t key = varint();
      const auto field = static_cast<int>(key >> 3);
      switch (key & 7) {
        case 0: varint(); break;
        case 1: skip(8); break;
        case 5: skip(4); break;
        case 2: {
          const std::uint64_t n = varint();
          if (!ok || n > static_cast<std::uint64_t>(end - p)) {
            ok = false;
            return;
          }
          on_field(field, Reader{p, p + n});
          p += n;
          break;
        }
        default: ok = false; return;
      }
    }
  }
  void skip(std::size_t n) {
    if (static_cast<std::size_t>(end - p) < n) {
      ok = false;
    } else {
      p += n;
    }
  }
};

// Spans in an ExportTraceServiceRequest (resource_spans = 1, scope_spans = 2, spans = 2).
std::optional<std::uint64_t> count_spans(std::string_view body) {
  const auto* b = reinterpret_cast<const unsigned char*>(body.data());
  Reader request{b, b + body.size()};
  std::uint64_t spans = 0;
  bool ok = true;
  request.fields([&](int field, Reader resource_spans) {
    if (field != 1) return;
    resource_spans.fields([&](int f, Reader scope_spans) {
      if (f != 2) return;
      scope_spans.fields([&](int g, Reader) { spans += g == 2; });
      ok = ok && scope_spans.ok;
    });
    ok = ok && resource_spans.ok;
  });
  if (!ok || !request.ok) return std::nullopt;
  return spans;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One connection: requests one after the other until the peer closes.
void serve(int fd, Totals& totals) {
  constexpr std::string_view kReply =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
  std::string buffer(std::size_t{1} << 20, '\0');
  std::size_t have = 0;  // bytes of buffer holding received data
  std::size_t kept_every = 0;
  while (true) {
    // Headers.
    std::size_t header_end;
    while ((header_end = std::string_view(buffer.data(), have).find("\r\n\r\n")) ==
           std::string_view::npos) {
      if (have == buffer.size()) return;  // headers too large
      const ssize_t n = ::recv(fd, buffer.data() + have, buffer.size() - have, 0);
      if (n <= 0) return;
      have += static_cast<std::size_t>(n);
    }
    std::string headers(buffer.data(), header_end);
    for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = headers.find("\r\ncontent-length:");
    if (headers.rfind("post ", 0) != 0 || at == std::string::npos) return;
    const std::size_t length = std::strtoull(headers.c_str() + at + 17, nullptr, 10);
    const std::size_t body_at = header_end + 4;
    if (body_at + length > buffer.size()) buffer.resize(body_at + length);
    while (have < body_at + length) {
      const ssize_t n = ::recv(fd, buffer.data() + have, buffer.size() - have, 0);
      if (n <= 0) return;
      have += static_cast<std::size_t>(n);
    }
    const std::string_view body(buffer.data() + body_at, length);
    const auto spans = count_spans(body);
    {
      std::lock_guard lock(totals.mu);
      ++totals.requests;
      totals.bytes += length;
      if (spans) totals.spans += *spans; else ++totals.unreadable;
      if (kept_every++ % 10 == 0) totals.kept.add(body);
    }
    if (!send_all(fd, kReply)) return;
    // Whatever followed this request (pipelining) moves to the front.
    const std::size_t used = body_at + length;
    std::memmove(buffer.data(), buffer.data() + used, have - used);
    have -= used;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: kiq_bench_otlp_sink <kept-bodies-file>\n";
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // threads inherit the mask

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("kiq_bench_otlp_sink: cannot listen on 127.0.0.1");
    return 1;
  }
  Totals totals;  // touches the kept bodies' buffer: before "port", so before any drain
  std::cout << "port " << ntohs(addr.sin_port) << std::endl;

  std::thread([&] {
    while (true) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) continue;
      std::thread([fd, &totals] {
        serve(fd, totals);
        ::close(fd);
      }).detach();
    }
  }).detach();

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::lock_guard lock(totals.mu);  // connection threads stop recording here
  std::cout << "requests " << totals.requests << " spans " << totals.spans << " bytes "
            << totals.bytes << " unreadable " << totals.unreadable << std::endl;
  if (!totals.kept.write(argv[1])) {
    std::cerr << "kiq_bench_otlp_sink: cannot write " << argv[1] << "\n";
    std::_Exit(1);
  }
  std::_Exit(0);  // detached connection threads may still be blocked in recv
}
