// Job-hash helpers, options resolution, tracer lookup and the current-job marker.
#include "instrumentation/job_hash.hpp"

#include <cmath>
#include <cstdlib>

#include "core/json_int.hpp"
#include "otel/internal/text.hpp"

namespace kiq::tracing {
namespace detail {
namespace {

// The job running on this thread, for make_job_attributes_processor(). Thread-local like the
// OpenTelemetry context itself; points into the CurrentJobScope on this thread's stack.
thread_local const std::string* t_jid = nullptr;
thread_local const std::string* t_class = nullptr;

bool is_new(SemconvMode m) { return m != SemconvMode::kOld; }
bool is_old(SemconvMode m) { return m != SemconvMode::kNew; }

}  // namespace

std::string_view string_of(const Json& job, std::string_view key) {
  if (!job.is_object()) return {};
  auto it = job.find(key);
  if (it == job.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

std::optional<double> epoch_seconds(const Json* value) {
  if (!value || !value->is_number()) return std::nullopt;
  double v = value->get<double>();
  if (!std::isfinite(v) || v <= 0) return std::nullopt;
  if (value->is_number_integer() && v > 1e11) v /= 1000.0;  // Sidekiq 8: integer milliseconds
  // Beyond year 2255 the nanosecond timestamps of OTLP overflow: treat as garbage.
  if (v > 9e9) return std::nullopt;
  return v;
}

otel::Timestamp to_timestamp(double epoch_seconds) {
  auto nanos = static_cast<std::int64_t>(std::llround(epoch_seconds * 1e9));
  return otel::Timestamp(std::chrono::duration_cast<otel::Timestamp::duration>(
      std::chrono::nanoseconds(nanos)));
}

bool retry_enabled(const Json* value) {
  if (!value || value->is_null()) return false;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_number_integer()) return value->get<std::int64_t>() > 0;
  return true;  // Sidekiq: anything else truthy
}

JobFields JobFields::of(const Json& job) {
  JobFields f;
  if (!job.is_object()) return f;
  auto text = [](const Json& v) {
    return v.is_string() ? std::string_view(v.get_ref<const std::string&>()) : std::string_view();
  };
  for (const auto& [key, value] : job.get_ref<const Json::object_t&>()) {
    switch (key.size()) {  // the length first: most keys are decided without a compare
      case 3:
        if (key == "jid") f.jid = text(value);
        break;
      case 5:
        if (key == "class") {
          f.job_class = text(value);
        } else if (key == "retry") {
          f.retry = &value;
        }
        break;
      case 7:
        if (key == "wrapped") {
          f.wrapped = text(value);
        } else if (key == "baggage") {
          f.baggage = &value;
        }
        break;
      case 10:
        if (key == "created_at") {
          f.created_at = &value;
        } else if (key == "tracestate") {
          f.tracestate = &value;
        }
        break;
      case 11:
        if (key == "enqueued_at") {
          f.enqueued_at = &value;
        } else if (key == "retry_count") {
          f.retry_count = &value;
        } else if (key == "traceparent") {
          f.traceparent = &value;
        }
        break;
      case 12:
        if (key == "scheduled_at") f.scheduled_at = &value;
        break;
      default:
        break;
    }
  }
  return f;
}

std::optional<int> JobFields::retries() const {
  return retry_count_value(retry_count);
}

std::optional<std::string_view> JobCarrier::get(std::string_view key) const {
  if (fields_) {
    const Json* const* known = key == "traceparent" ? &fields_->traceparent
                               : key == "tracestate" ? &fields_->tracestate
                               : key == "baggage"    ? &fields_->baggage
                                                     : nullptr;
    if (known) {
      const Json* value = *known;
      if (!value || !value->is_string()) return std::nullopt;
      return std::string_view(value->get_ref<const std::string&>());
    }
  }
  if (!const_job_->is_object()) return std::nullopt;
  auto it = const_job_->find(key);
  if (it == const_job_->end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

void JobCarrier::set(std::string_view key, std::string_view value) {
  if (job_ && job_->is_object()) (*job_)[std::string(key)] = std::string(value);
}

TracingOptions resolved(TracingOptions options) {
  if (!options.semconv) options.semconv = semconv_from_env();
  return options;
}

namespace {

// Null for the no-op provider: tracing is off and the middleware skips all work.
otel::TracerPtr tracer_of(const std::shared_ptr<otel::TracerProvider>& provider) {
  if (!provider || provider == otel::noop_tracer_provider()) return nullptr;
  return provider->get_tracer(kInstrumentationName, kInstrumentationVersion);
}

}  // namespace

TracerSource::TracerSource(std::shared_ptr<otel::TracerProvider> fixed)
    : fixed_(std::move(fixed)), fixed_tracer_(fixed_ ? tracer_of(fixed_) : nullptr) {}

otel::Tracer* TracerSource::tracer(const GlobalsScope& globals) const {
  return fixed_ ? fixed_tracer_.get() : globals.tracer();
}

namespace {

// The owning copies behind GlobalsScope, one per thread. Generation 0 never occurs, so the first
// scope on a thread always fills the cache.
struct GlobalsCache {
  std::uint64_t provider_generation = 0;
  std::uint64_t propagator_generation = 0;
  otel::TracerPtr tracer;
  otel::PropagatorPtr propagator;
  int depth = 0;  // GlobalsScopes alive on this thread

  void refresh() {
    // Generation first, object second: a set in between only costs one extra refresh later.
    if (auto g = otel::tracer_provider_generation(); g != provider_generation) {
      tracer = tracer_of(otel::tracer_provider());
      provider_generation = g;
    }
    if (auto g = otel::global_propagator_generation(); g != propagator_generation) {
      propagator = otel::global_propagator();
      propagator_generation = g;
    }
  }
};

GlobalsCache& globals_cache() {
  thread_local GlobalsCache cache;
  return cache;
}

}  // namespace

GlobalsScope::GlobalsScope() {
  GlobalsCache& cache = globals_cache();
  if (cache.depth == 0) cache.refresh();
  ++cache.depth;
  tracer_ = cache.tracer.get();
  propagator_ = cache.propagator.get();
}

GlobalsScope::~GlobalsScope() { --globals_cache().depth; }

namespace {

// Writes a list's entries in order, in place: an entry whose key is already the one written
// keeps it, and a string value is assigned into the buffer already there (the same code
// writes the same keys, and often the same values, every time). finish() cuts what is left.
class AttributeWriter {
 public:
  explicit AttributeWriter(otel::Attributes& out) : out_(out) {}
  void put(std::string_view key, std::string_view v) {
    otel::AttributeValue& value = slot(key);
    if (auto* s = std::get_if<std::string>(&value)) {
      otel::internal::assign_if_different(*s, v);
    } else {
      value.emplace<std::string>(v);
    }
  }
  void put_bool(std::string_view key, bool v) { slot(key) = v; }  // not put(): a literal would pick it
  void finish() {
    if (out_.size() > n_) out_.erase(out_.begin() + static_cast<std::ptrdiff_t>(n_), out_.end());
  }

 private:
  otel::AttributeValue& slot(std::string_view key) {
    if (n_ == out_.size()) out_.emplace_back();
    otel::Attribute& a = out_[n_++];
    otel::internal::assign_if_different(a.key, key);
    return a.value;
  }
  otel::Attributes& out_;
  std::size_t n_ = 0;
};

// The span attributes shared by the publish and process spans, in their order.
void write_job_attributes(otel::Attributes& out, const JobFields& job, std::string_view queue,
                          const TracingOptions& options, bool process) {
  const SemconvMode mode = options.semconv.value_or(SemconvMode::kOld);
  const std::string_view job_class = job.display_class();
  const std::string_view jid = job.jid;
  AttributeWriter a(out);
  a.put("messaging.system", "sidekiq");
  a.put("messaging.sidekiq.job_class", job_class);
  if (is_old(mode)) {
    a.put("messaging.message_id", jid);
    a.put("messaging.destination", queue);
    a.put("messaging.destination_kind", "queue");
    if (process) a.put("messaging.operation", "process");
  }
  if (is_new(mode)) {
    a.put("messaging.message.id", jid);
    a.put("messaging.destination.name", queue);
    a.put("messaging.operation.type", process ? "process" : "send");
    a.put("messaging.operation.name", process ? "process" : "publish");
  }
  // The tutorial's job attributes.
  a.put_bool("sidekiq.job.retry", retry_enabled(job.retry));
  a.put("sidekiq.job.queue", queue);
  a.put("sidekiq.job.jid", jid);
  a.put("sidekiq.worker.name", job_class);
  if (!options.peer_service.empty()) a.put("peer.service", options.peer_service);
  a.finish();
}

void write_span_name(std::string& out, const JobFields& job, std::string_view queue,
                     const TracingOptions& options, bool process) {
  const std::string_view subject =
      options.span_naming == SpanNaming::kJobClass ? job.display_class() : queue;
  const std::string_view operation = process ? "process" : "publish";
  const bool operation_first = options.semconv.value_or(SemconvMode::kOld) == SemconvMode::kNew;
  out.assign(operation_first ? operation : subject);
  out += ' ';
  out += operation_first ? subject : operation;
}

}  // namespace

JobSpanStart& job_span_start(const JobFields& job, std::string_view queue,
                             const TracingOptions& options, bool process) {
  // Thread-local like the OpenTelemetry context; holds only strings between calls.
  thread_local JobSpanStart publish, consume;
  JobSpanStart& start = process ? consume : publish;
  start.options.kind = process ? otel::SpanKind::kConsumer : otel::SpanKind::kProducer;
  start.options.parent = std::monostate();
  if (!start.options.links.empty()) start.options.links.clear();
  write_job_attributes(start.options.attributes, job, queue, options, process);
  write_span_name(start.name, job, queue, options, process);
  return start;
}

void release_parent(JobSpanStart& start) {
  start.options.parent = std::monostate();
  if (!start.options.links.empty()) start.options.links.clear();
}

namespace {

// The buffers of the last CurrentJobScope that ended on this thread, taken by the next one.
struct SpareIds {
  std::string jid, job_class;
};
thread_local SpareIds t_spare;

}  // namespace

CurrentJobScope::CurrentJobScope(std::string_view jid, std::string_view job_class)
    : prev_jid_(t_jid), prev_class_(t_class) {
  jid_.swap(t_spare.jid);
  class_.swap(t_spare.job_class);
  jid_.assign(jid);
  class_.assign(job_class);
  t_jid = &jid_;
  t_class = &class_;
}

CurrentJobScope::~CurrentJobScope() {
  t_jid = prev_jid_;
  t_class = prev_class_;
  jid_.swap(t_spare.jid);
  class_.swap(t_spare.job_class);
}

}  // namespace detail

namespace {

// Stamps the running job onto spans at start; optionally forwards everything to `next` so it
// can sit last in a provider's list without costing a SpanData copy per span (the SDK copies
// the span for every processor but the last).
class JobAttributesProcessor final : public otel::sdk::SpanProcessor {
 public:
  explicit JobAttributesProcessor(std::shared_ptr<otel::sdk::SpanProcessor> next) : next_(std::move(next)) {}
  void on_start(otel::Span& span, const otel::Context& parent) override {
    if (detail::t_jid && !detail::t_jid->empty()) {
      span.set_attribute("sidekiq.job.jid", *detail::t_jid);
      if (detail::t_class && !detail::t_class->empty())
        span.set_attribute("sidekiq.job.class", *detail::t_class);
    }
    if (next_) next_->on_start(span, parent);
  }
  void on_end_from(otel::sdk::SpanData&& span, const otel::sdk::SpanOrigin& origin) override {
    if (next_) next_->on_end_from(std::move(span), origin);
  }
  void on_end(otel::sdk::SpanData&& span) override {
    if (next_) next_->on_end(std::move(span));
  }
  bool force_flush(std::chrono::milliseconds timeout) override {
    return next_ ? next_->force_flush(timeout) : true;
  }
  bool shutdown(std::chrono::milliseconds timeout) override {
    return next_ ? next_->shutdown(timeout) : true;
  }

 private:
  std::shared_ptr<otel::sdk::SpanProcessor> next_;
};

std::string lower_trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == ':')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::shared_ptr<otel::sdk::SpanProcessor> make_job_attributes_processor(
    std::shared_ptr<otel::sdk::SpanProcessor> next) {
  return std::make_shared<JobAttributesProcessor>(std::move(next));
}

std::string_view current_job_jid() {
  return detail::t_jid ? std::string_view(*detail::t_jid) : std::string_view();
}

SpanNaming parse_span_naming(std::string_view value) {
  return lower_trimmed(value) == "job_class" ? SpanNaming::kJobClass : SpanNaming::kQueue;
}

PropagationStyle parse_propagation_style(std::string_view value) {
  std::string v = lower_trimmed(value);
  if (v == "child") return PropagationStyle::kChild;
  if (v == "none") return PropagationStyle::kNone;
  return PropagationStyle::kLink;
}

std::string_view to_string(PropagationStyle style) {
  switch (style) {
    case PropagationStyle::kChild: return "child";
    case PropagationStyle::kNone: return "none";
    case PropagationStyle::kLink: break;
  }
  return "link";
}

SemconvMode parse_semconv(std::string_view opt_in) {
  bool messaging = false, dup = false;
  while (!opt_in.empty()) {
    auto comma = opt_in.find(',');
    std::string item = lower_trimmed(opt_in.substr(0, comma));
    if (item == "messaging/dup") dup = true;
    if (item == "messaging") messaging = true;
    if (comma == std::string_view::npos) break;
    opt_in.remove_prefix(comma + 1);
  }
  if (dup) return SemconvMode::kDup;
  return messaging ? SemconvMode::kNew : SemconvMode::kOld;
}

SemconvMode semconv_from_env() {
  const char* v = std::getenv("OTEL_SEMCONV_STABILITY_OPT_IN");
  return v ? parse_semconv(v) : SemconvMode::kOld;
}

}  // namespace kiq::tracing
