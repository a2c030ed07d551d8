// OtlpHttpExporter: encode -> (gzip) -> POST with libcurl, retry per OTLP, report once per outage.
#include "kiq/otel/sdk/exporters/otlp_http.hpp"

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "google/rpc/status.pb.h"
#include "otel/otlp/encoding.hpp"
#include "otel/otlp/env_options.hpp"
#include "otel/otlp/gzip.hpp"
#include "otel/otlp/log.hpp"
#include "otel/otlp/retry.hpp"
#include "util/deadline.hpp"

namespace kiq::otel::sdk {
namespace {

using Clock = std::chrono::steady_clock;
using otlp::log_warn;

constexpr std::size_t kMaxRequestBytes = 64u << 20;  // OTLP: don't send bigger (uncompressed)
constexpr std::size_t kMaxResponseBytes = 4u << 20;  // OTLP: bigger = non-retryable error
constexpr std::size_t kKeptBufferBytes = 8u << 20;   // encode buffer kept between exports

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Result of one HTTP attempt.
struct Attempt {
  enum class Kind { kSuccess, kRetryable, kFatal } kind = Kind::kFatal;
  long status = 0;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;     // why it failed
  std::string body;      // response body
  std::string content_type;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  std::size_t n = size * count;
  if (body->size() + n > kMaxResponseBytes) return 0;  // makes curl fail with CURLE_WRITE_ERROR
  body->append(data, n);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load(std::memory_order_relaxed) ? 1 : 0;
}

// Errors where trying again cannot help.
bool fatal_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_SSL_CACERT_BADFILE:  // unreadable certificate/key files: configuration errors
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ENGINE_NOTFOUND:
      return true;
    default:
      return false;
  }
}

// A short, printable description of an error response body (google.rpc.Status or JSON).
std::string describe_error_body(const Attempt& attempt) {
  if (attempt.body.empty()) return {};
  if (attempt.content_type.find("json") != std::string::npos) {
    auto j = nlohmann::json::parse(attempt.body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      return j["message"].get<std::string>();
    }
  } else if (attempt.content_type.find("protobuf") != std::string::npos) {
    google::rpc::Status status;
    if (status.ParseFromString(attempt.body)) return status.message();
  }
  std::string text = attempt.body.substr(0, 200);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return text;
}

struct PartialSuccess {
  std::int64_t rejected = 0;
  std::string message;
};

std::optional<PartialSuccess> parse_partial_success(const Attempt& attempt) {
  if (attempt.body.empty()) return std::nullopt;
  if (attempt.content_type.find("json") != std::string::npos) {
    auto j = nlohmann::json::parse(attempt.body, nullptr, false);
    if (!j.is_object() || !j.contains("partialSuccess") || !j["partialSuccess"].is_object()) {
      return std::nullopt;
    }
    const auto& p = j["partialSuccess"];
    PartialSuccess out;
    if (auto it = p.find("rejectedSpans"); it != p.end()) {
      if (it->is_number_integer()) out.rejected = it->get<std::int64_t>();
      if (it->is_string()) out.rejected = std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
    }
    if (auto it = p.find("errorMessage"); it != p.end() && it->is_string()) {
      out.message = it->get<std::string>();
    }
    if (out.rejected == 0 && out.message.empty()) return std::nullopt;
    return out;
  }
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
  if (!response.ParseFromString(attempt.body) || !response.has_partial_success()) {
    return std::nullopt;
  }
  const auto& p = response.partial_success();
  if (p.rejected_spans() == 0 && p.error_message().empty()) return std::nullopt;
  return PartialSuccess{p.rejected_spans(), p.error_message()};
}

// OTLP/protobuf spans serialized one by one (what ScopeSpans concatenates).
class ProtobufSpanSerializer final : public SpanSerializer {
 public:
  std::string_view serialize(const SpanData& span, std::string& scratch) const override {
    return otlp::serialize_span(span, scratch);
  }
};

}  // namespace

class OtlpHttpExporter::Impl {
 public:
  explicit Impl(OtlpHttpExporterOptions options) : options_(std::move(options)) {
    static std::once_flag curl_init;
    std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_.reset(curl_easy_init());
    bool json = options_.protocol == OtlpProtocol::kHttpJson;
    append_header(json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
    if (options_.compression == OtlpCompression::kGzip) append_header("Content-Encoding: gzip");
    append_header("User-Agent: " + otlp_user_agent());
    append_header("Expect:");  // no 100-continue round trip for bodies > 1 KiB
    for (const auto& [key, value] : options_.headers) {
      // CR/LF would let a header value inject further headers or a body.
      if (key.empty() || key.find_first_of(":\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        log_warn("ignoring OTLP header '{}': empty name or forbidden character", key);
        continue;
      }
      append_header(key + ": " + value);
    }
  }

  ExportResult export_spans(std::span<const SpanData> batch) {
    return export_batch(batch.size(), [&](std::string& text) -> std::string_view {
      // Protobuf is encoded into the encoder's kept buffer and POSTed from there (no copy).
      if (options_.protocol == OtlpProtocol::kHttpJson) return text = otlp::encode_json(batch);
      return encoder_.encode(batch);
    });
  }

  ExportResult export_serialized(std::span<const SerializedSpans> batch) {
    std::size_t spans = 0;
    for (const auto& part : batch) spans += part.count;
    if (options_.protocol == OtlpProtocol::kHttpJson) {  // serializer() gave none out
      return batch.empty() ? ExportResult::kSuccess
                           : fail(spans, "serialized spans given to an OTLP/JSON exporter");
    }
    return export_batch(spans, [&](std::string&) { return encoder_.encode_serialized(batch); });
  }

  std::shared_ptr<const SpanSerializer> serializer() const {
    if (options_.protocol == OtlpProtocol::kHttpJson) return nullptr;
    return std::make_shared<ProtobufSpanSerializer>();
  }

  // One export of `spans` spans whose body encode(text) returns (it may live in `text`).
  template <class Encode>
  ExportResult export_batch(std::size_t spans, Encode&& encode) {
    if (shutdown_.load()) return ExportResult::kFailure;
    if (spans == 0) return ExportResult::kSuccess;  // never send an empty envelope
    ExportSlot slot(*this);
    if (shutdown_.load()) return ExportResult::kFailure;
    if (!curl_) return fail(spans, "libcurl could not be initialised");
    try {
      std::string text;
      std::string_view body = encode(text);
      return compress_and_send(body, text, spans);
    } catch (const std::exception& e) {  // e.g. bad_alloc: the exporter contract is "never throw"
      return fail(spans, fmt::format("export aborted: {}", e.what()));
    }
  }

  // `body` may live in `text` or in the encoder's kept buffer.
  ExportResult compress_and_send(std::string_view body, std::string& text, std::size_t spans) {
    // Don't keep an unusually large buffer for the process's lifetime.
    struct Trim {
      otlp::WireEncoder& encoder;
      std::size_t size;
      ~Trim() {
        if (size > kKeptBufferBytes) encoder.release();
      }
    } trim{encoder_, body.size()};
    if (body.size() > kMaxRequestBytes) {
      return fail(spans, fmt::format("request of {} bytes exceeds the 64 MiB limit", body.size()));
    }
    if (options_.compression == OtlpCompression::kGzip) {
      auto compressed = otlp::gzip_compress(body);
      if (!compressed) return fail(spans, "gzip compression failed");
      text = std::move(*compressed);
      body = text;
    }
    return send(body, spans);
  }

  bool shutdown(std::chrono::milliseconds timeout) {
    {
      std::lock_guard lock(mu_);
      shutdown_.store(true);
    }
    cv_.notify_all();
    // An export in flight notices the flag within curl's progress interval or at once when
    // waiting; wait for it so the handle is not freed under it.
    std::unique_lock lock(mu_);
    if (!util::wait_at_most(cv_, lock, timeout, [this] { return !busy_; })) return false;
    // Nothing is sent after shutdown: close the kept-alive connection now rather than when the
    // exporter is destroyed (its owner may keep it for a while; the collector holds a socket).
    curl_.reset();
    return true;
  }

  const OtlpHttpExporterOptions& options() const { return options_; }

  OtlpHttpExporterStats stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
  }

 private:
  // Marks one export in progress (exports are serialized; shutdown waits for the slot).
  // A mutex + flag rather than std::timed_mutex, whose timed lock TSan cannot follow.
  class ExportSlot {
   public:
    explicit ExportSlot(Impl& impl) : impl_(impl) {
      std::unique_lock lock(impl_.mu_);
      impl_.cv_.wait(lock, [this] { return !impl_.busy_; });
      impl_.busy_ = true;
    }
    ~ExportSlot() {
      {
        std::lock_guard lock(impl_.mu_);
        impl_.busy_ = false;
      }
      impl_.cv_.notify_all();
    }
    ExportSlot(const ExportSlot&) = delete;
    ExportSlot& operator=(const ExportSlot&) = delete;

   private:
    Impl& impl_;
  };

  void append_header(const std::string& line) {
    curl_slist* list = curl_slist_append(headers_.get(), line.c_str());
    if (list != nullptr) {
      headers_.release();
      headers_.reset(list);
    }
  }

  ExportResult send(std::string_view body, std::size_t spans) {
    const bool bounded = options_.timeout.count() > 0;
    const auto deadline = util::deadline_after(options_.timeout);
    std::string last_error;
    for (int retry = 0;; ++retry) {
      const auto remaining = util::time_left(deadline);
      if (bounded && remaining.count() <= 0) {
        return fail(spans, fmt::format("timed out after {} ms ({})", options_.timeout.count(),
                                       last_error.empty() ? "no answer" : last_error));
      }
      Attempt attempt = perform(body, bounded ? remaining : std::chrono::milliseconds(0));
      if (attempt.kind == Attempt::Kind::kSuccess) return succeed(spans, attempt);
      last_error = attempt.error;
      if (attempt.kind == Attempt::Kind::kFatal || shutdown_.load()) return fail(spans, last_error);
      // While an outage is known (the previous export failed) an unreachable collector gets one
      // attempt per batch: retrying every batch would keep the export thread (and a process
      // shutting down) waiting on a collector that is simply not there.
      if (attempt.status == 0 && outage_in_progress()) {
        return fail(spans, fmt::format("{} (collector still unreachable; not retried)", last_error));
      }
      if (retry >= options_.max_retries) {
        return fail(spans, fmt::format("{} (gave up after {} retries)", last_error, retry));
      }
      auto delay = attempt.retry_after.value_or(
          otlp::backoff_delay(retry, options_.initial_backoff, options_.max_backoff, random01()));
      if (bounded && Clock::now() + delay >= deadline) {
        return fail(spans, fmt::format("{} (next retry in {} ms would exceed the {} ms timeout)",
                                       last_error, delay.count(), options_.timeout.count()));
      }
      if (!wait(delay)) {
        // Said even at shutdown (fail() is quiet then): these spans are lost, and why matters.
        log_warn("shut down while waiting to retry: {} spans dropped ({})", spans, last_error);
        return fail(spans, fmt::format("shut down while waiting to retry ({})", last_error));
      }
      std::lock_guard lock(stats_mutex_);
      ++stats_.retries;
    }
  }

  Attempt perform(std::string_view body, std::chrono::milliseconds timeout) {
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.attempts;
    }
    Attempt attempt;
    CURL* c = curl_.get();
    curl_easy_reset(c);  // keeps the connection cache: the connection stays alive
    curl_easy_setopt(c, CURLOPT_URL, options_.endpoint.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_.get());
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);          // we run on a background thread
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &attempt.body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &shutdown_);
    if (!options_.certificate_file.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, options_.certificate_file.c_str());
    }
    if (!options_.client_certificate_file.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_certificate_file.c_str());
    }
    if (!options_.client_key_file.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
    }

    CURLcode code = curl_easy_perform(c);
    long connects = 0;
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
      std::lock_guard lock(stats_mutex_);
      stats_.connections_opened += static_cast<std::uint64_t>(connects);
    }
    if (code != CURLE_OK) {
      attempt.kind = fatal_curl_error(code) ? Attempt::Kind::kFatal : Attempt::Kind::kRetryable;
      attempt.error = code == CURLE_WRITE_ERROR
                          ? "response larger than 4 MiB"
                          : fmt::format("{} ({})", curl_easy_strerror(code), options_.endpoint);
      return attempt;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &attempt.status);
    char* content_type = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type) {
      attempt.content_type = content_type;
    }
    if (attempt.status >= 200 && attempt.status < 300) {
      attempt.kind = Attempt::Kind::kSuccess;
      return attempt;
    }
    attempt.kind = otlp::is_retryable_status(attempt.status) ? Attempt::Kind::kRetryable
                                                             : Attempt::Kind::kFatal;
    curl_header* header = nullptr;
    if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
      attempt.retry_after = otlp::parse_retry_after(header->value, std::chrono::system_clock::now());
    }
    std::string detail = describe_error_body(attempt);
    attempt.error = fmt::format("HTTP {} from {}{}{}", attempt.status, options_.endpoint,
                                detail.empty() ? "" : ": ", detail);
    return attempt;
  }

  // Sleeps `delay` unless shut down first; false when shut down.
  bool wait(std::chrono::milliseconds delay) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, delay, [this] { return shutdown_.load(); });
  }

  bool outage_in_progress() const {
    std::lock_guard lock(stats_mutex_);
    return stats_.failing;
  }

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  ExportResult succeed(std::size_t spans, const Attempt& attempt) {
    auto partial = parse_partial_success(attempt);
    std::lock_guard lock(stats_mutex_);
    ++stats_.exports_succeeded;
    stats_.spans_exported += spans;
    if (stats_.failing) {
      log_warn("export to {} recovered ({} spans were dropped during the outage)",
               options_.endpoint, stats_.spans_dropped - dropped_at_outage_start_);
      stats_.failing = false;
    }
    if (partial) {
      stats_.spans_rejected += static_cast<std::uint64_t>(std::max<std::int64_t>(partial->rejected, 0));
      // Logged when it first appears or changes, so a collector that always warns is not spam.
      if (partial->message != last_partial_message_) {
        log_warn("collector {} accepted the batch partially: {} spans rejected{}{}",
                 options_.endpoint, partial->rejected, partial->message.empty() ? "" : ": ",
                 partial->message);
        last_partial_message_ = partial->message;
      }
    }
    return ExportResult::kSuccess;
  }

  ExportResult fail(std::size_t spans, std::string error) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.exports_failed;
    if (!stats_.failing && !shutdown_.load()) {
      log_warn("export failing, spans are being dropped: {}; not logged again until it recovers",
               error);
    }
    if (!stats_.failing) dropped_at_outage_start_ = stats_.spans_dropped;
    stats_.failing = true;
    stats_.spans_dropped += spans;
    stats_.last_error = std::move(error);
    return ExportResult::kFailure;
  }

  const OtlpHttpExporterOptions options_;
  otlp::WireEncoder encoder_;  // only used inside an ExportSlot
  std::unique_ptr<CURL, CurlDeleter> curl_;  // used inside an ExportSlot; reset by shutdown()
  std::unique_ptr<curl_slist, CurlDeleter> headers_;
  std::atomic<bool> shutdown_{false};
  std::mutex mu_;                // guards busy_; with cv_ also wakes backoff waits on shutdown
  std::condition_variable cv_;
  bool busy_ = false;            // an export holds the ExportSlot (and so curl_)
  std::mt19937_64 rng_{std::random_device{}()};  // only used inside an ExportSlot
  mutable std::mutex stats_mutex_;
  OtlpHttpExporterStats stats_;
  std::uint64_t dropped_at_outage_start_ = 0;
  std::string last_partial_message_;
};

OtlpHttpExporter::OtlpHttpExporter() : OtlpHttpExporter(OtlpHttpExporterOptions::from_env()) {}
OtlpHttpExporter::OtlpHttpExporter(OtlpHttpExporterOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
OtlpHttpExporter::~OtlpHttpExporter() {
  impl_->shutdown(std::chrono::seconds(5));
}

ExportResult OtlpHttpExporter::export_spans(std::span<const SpanData> batch) {
  return impl_->export_spans(batch);
}
std::shared_ptr<const SpanSerializer> OtlpHttpExporter::serializer() const {
  return impl_->serializer();
}
ExportResult OtlpHttpExporter::export_serialized(std::span<const SerializedSpans> batch) {
  return impl_->export_serialized(batch);
}
bool OtlpHttpExporter::force_flush(std::chrono::milliseconds) { return true; }  // nothing buffered
bool OtlpHttpExporter::shutdown(std::chrono::milliseconds timeout) {
  return impl_->shutdown(timeout);
}
const OtlpHttpExporterOptions& OtlpHttpExporter::options() const { return impl_->options(); }
OtlpHttpExporterStats OtlpHttpExporter::stats() const { return impl_->stats(); }

std::string otlp_user_agent() { return "OTel-OTLP-Exporter-Cpp-kiq/" KIQ_VERSION_STRING; }

}  // namespace kiq::otel::sdk
