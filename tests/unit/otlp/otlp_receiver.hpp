// OtlpReceiver: a tiny OTLP/HTTP endpoint for tests, on 127.0.0.1 and a port the OS picks. It
// records every request and answers from a script (then 200 with an empty body). Shared by the
// exporter fault tests and the OTLP interop test.
//
// Note: cpp-httplib (built with zlib) inflates gzip request bodies itself, so `body` is always
// the decoded body; `content_length` is what travelled on the wire.
//
// Thread-safety: all methods are thread-safe (the server thread records under a mutex).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kiq::testing {

struct CapturedRequest {
  std::string method;
  std::string path;
  std::string body;  // after Content-Encoding was undone
  httplib::Headers headers;
  std::size_t content_length = 0;  // bytes on the wire

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ScriptedResponse {
  ScriptedResponse(int status_ = 200, std::string body_ = {},
                   std::string content_type_ = "application/x-protobuf",
                   std::vector<std::pair<std::string, std::string>> headers_ = {},
                   std::chrono::milliseconds delay_ = {})
      : status(status_), body(std::move(body_)), content_type(std::move(content_type_)),
        headers(std::move(headers_)), delay(delay_) {}
  int status = 200;
  std::string body;
  std::string content_type = "application/x-protobuf";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // answer this late (a slow collector)
};

class OtlpReceiver {
 public:
  OtlpReceiver() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ScriptedResponse reply;
      {
        std::lock_guard lock(mu_);
        CapturedRequest captured{req.method, req.path, req.body, req.headers, 0};
        captured.content_length = std::strtoul(req.get_header_value("Content-Length").c_str(), nullptr, 10);
        requests_.push_back(std::move(captured));
        if (next_ < script_.size()) reply = script_[next_++];
      }
      if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
      res.status = reply.status;
      for (const auto& [key, value] : reply.headers) res.set_header(key, value);
      res.set_content(reply.body, reply.content_type.c_str());
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ < 0) throw std::runtime_error("OtlpReceiver: cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!server_.is_running()) {
      if (std::chrono::steady_clock::now() > give_up) {
        server_.stop();
        thread_.join();
        throw std::runtime_error("OtlpReceiver: server did not start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~OtlpReceiver() {
    server_.stop();
    thread_.join();
  }

  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/v1/traces") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Responses for the next requests, in order; afterwards every request gets 200.
  void script(std::vector<ScriptedResponse> responses) {
    std::lock_guard lock(mu_);
    script_ = std::move(responses);
    next_ = 0;
  }

  std::vector<CapturedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<CapturedRequest> requests_;
  std::vector<ScriptedResponse> script_;
  std::size_t next_ = 0;
};

}  // namespace kiq::testing
