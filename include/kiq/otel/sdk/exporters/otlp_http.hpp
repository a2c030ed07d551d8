// OtlpHttpExporter: sends finished spans to an OpenTelemetry collector over OTLP/HTTP
// (protobuf or JSON body, optional gzip), with the retry rules of the OTLP specification.
//
//   auto exporter = std::make_unique<kiq::otel::sdk::OtlpHttpExporter>();  // options from env
//   // or: OtlpHttpExporterOptions o; o.endpoint = "http://collector:4318/v1/traces"; ...
//
// Behaviour contract:
// - One export_spans() or export_serialized() call = at most one request body, POSTed to
//   `endpoint` on a kept-alive connection; retried on 429/502/503/504 and on connection failures
//   with exponential backoff plus jitter, honouring Retry-After (delta-seconds or HTTP-date).
//   Every other HTTP status is a failure without retry. The whole call (all attempts and waits)
//   is bounded by `timeout`.
// - A collector that is down is reported once when failing starts and once when it recovers,
//   never per batch. While such an outage lasts, a collector that cannot be connected to gets
//   a single attempt per batch (no retries), so a dead collector costs little and does not
//   stretch process shutdown. An empty batch sends nothing and succeeds.
// - Never throws; after shutdown() every export_spans() fails at once, and shutdown() aborts a
//   transfer or backoff wait in progress.
//
// Thread-safety: export_spans() calls are serialized internally (the SDK never calls it
// concurrently anyway); shutdown(), force_flush() and stats() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiq/otel/sdk/exporter.hpp"

namespace kiq::otel::sdk {

enum class OtlpProtocol { kHttpProtobuf, kHttpJson };
enum class OtlpCompression { kNone, kGzip };

struct OtlpHttpExporterOptions {
  // Full URL requests are POSTed to (the signal path included).
  std::string endpoint = "http://localhost:4318/v1/traces";
  OtlpProtocol protocol = OtlpProtocol::kHttpProtobuf;
  OtlpCompression compression = OtlpCompression::kNone;
  // Extra request headers (e.g. an API key). Content-Type, Content-Encoding and User-Agent are
  // set by the exporter.
  std::vector<std::pair<std::string, std::string>> headers;
  // Bound of one whole export (all attempts and backoff waits). Zero means no limit.
  std::chrono::milliseconds timeout{10000};
  // Retries after the first attempt; the timeout usually ends them first.
  int max_retries = 5;
  // Backoff before retry n (n = 0, 1, ...) is a random duration in
  // [initial_backoff * 2^n / 2, initial_backoff * 2^n], capped at max_backoff.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  // TLS (https endpoints): PEM files; empty = system trust store / no client certificate.
  std::string certificate_file;         // CA bundle that verifies the collector
  std::string client_certificate_file;  // mTLS client certificate
  std::string client_key_file;          // mTLS client key

  // Defaults overridden by OTEL_EXPORTER_OTLP_{TRACES_,}{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,
  // PROTOCOL,CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY}; signal-specific variables win. Bad values are logged and ignored; "grpc" is
  // logged and replaced by http/protobuf (kiq has no gRPC transport).
  static OtlpHttpExporterOptions from_env();
};

// What an exporter has done so far; for tests, dashboards and self-diagnostics.
struct OtlpHttpExporterStats {
  std::uint64_t exports_succeeded = 0;  // export_spans() calls that returned kSuccess
  std::uint64_t exports_failed = 0;     // ... that returned kFailure (batch dropped)
  std::uint64_t spans_exported = 0;
  std::uint64_t spans_dropped = 0;      // spans of failed exports
  std::uint64_t spans_rejected = 0;     // partial_success.rejected_spans reported by collectors
  std::uint64_t attempts = 0;           // HTTP requests tried (first tries and retries)
  std::uint64_t retries = 0;
  std::uint64_t connections_opened = 0;  // new TCP connections (1 while keep-alive works)
  bool failing = false;                 // last export failed (an outage is in progress)
  std::string last_error;               // description of the most recent failure
};

class OtlpHttpExporter final : public SpanExporter {
 public:
  // Defaults come from the environment (OtlpHttpExporterOptions::from_env()).
  OtlpHttpExporter();
  explicit OtlpHttpExporter(OtlpHttpExporterOptions options);
  ~OtlpHttpExporter() override;
  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  ExportResult export_spans(std::span<const SpanData> batch) override;
  // http/protobuf only (null for http/json): spans serialized as OTLP Span messages.
  std::shared_ptr<const SpanSerializer> serializer() const override;
  ExportResult export_serialized(std::span<const SerializedSpans> batch) override;
  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;

  const OtlpHttpExporterOptions& options() const;
  OtlpHttpExporterStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Value of the User-Agent header the exporter sends: "OTel-OTLP-Exporter-Cpp-kiq/<version>".
std::string otlp_user_agent();

// An OtlpHttpExporter as a SpanExporter, wherever its code lives: the one linked into the
// program when it links the kiq_otlp library (what the `kiq` CMake target does), else the one
// in the module libkiq_otlp.so, loaded with dlopen on first use. This is how configure() and
// the `kiq` binary create OTLP exporters, so a process that never exports never maps
// libprotobuf/libcurl. The module is looked for at $KIQ_OTLP_MODULE (only there, when set),
// next to the executable, in ../lib of it, in the build tree that built this code, then on the
// dynamic linker's path; it must come from the same kiq build (version and sanitizers are
// checked), and an executable that loads it must export kiq's symbols (link it with the
// kiq_otlp_dynamic CMake target). Throws std::runtime_error saying what was tried when no
// exporter is available; the outcome of the first call is kept for the process's lifetime.
// Thread-safe.
std::shared_ptr<SpanExporter> make_otlp_http_exporter(
    OtlpHttpExporterOptions options = OtlpHttpExporterOptions::from_env());

// True when make_otlp_http_exporter() can create an exporter (loads the module if needed);
// otherwise false with the reason in *error (when given).
bool otlp_http_exporter_available(std::string* error = nullptr);

}  // namespace kiq::otel::sdk
