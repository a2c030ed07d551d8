#include "kiq/otel/sdk/tracer_provider.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kiq/otel/sdk/batch_span_processor.hpp"
#include "kiq/otel/sdk/simple_span_processor.hpp"
#include "otel/internal/log.hpp"
#include "otel/internal/recycling.hpp"
#include "otel/sdk/provider_state.hpp"
#include "otel/sdk/sdk_span.hpp"
#include "util/deadline.hpp"

namespace kiq::otel::sdk {
namespace {

class SdkTracer final : public Tracer {
 public:
  // `scope` is an element of shared->scopes.
  SdkTracer(std::shared_ptr<const TracerProvider::Shared> shared,
            const std::shared_ptr<const InstrumentationScope>& scope)
      : shared_ptr_(std::move(shared)), shared_(*shared_ptr_), scope_(scope) {}

  // `options` null: the defaults (see Tracer::do_start_span).
  SpanPtr do_start_span(std::string_view name, const StartSpanOptions* options) override {
    if (shared_.shut_down.load(std::memory_order_relaxed)) {
      return options ? noop_tracer()->start_span(name, *options)
                     : noop_tracer()->start_span(name);
    }
    // Resolve the parent context (no copy in the common "current context" case).
    static const Context kEmpty;
    std::optional<Context> explicit_parent;  // built only when needed
    const Context* parent_ctx;
    if (!options) {
      parent_ctx = &current_context();
    } else if (auto* c = std::get_if<Context>(&options->parent)) {
      parent_ctx = c;
    } else if (auto* sc = std::get_if<SpanContext>(&options->parent)) {
      explicit_parent = current_context().with_span(make_non_recording_span(*sc));
      parent_ctx = &*explicit_parent;
    } else if (std::holds_alternative<Root>(options->parent)) {
      parent_ctx = &kEmpty;
    } else {
      parent_ctx = &current_context();
    }
    const SpanContext& parent = parent_ctx->span_context();

    TraceId trace_id = parent.valid() ? parent.trace_id() : shared_.new_trace_id();
    if (parent_ctx->untraced()) {
      // Untraced work: a non-recording span, not sampled, no sampler call.
      return make_non_recording_span(SpanContext(trace_id, shared_.new_span_id(), TraceFlags(0),
                                                 false, parent.trace_state()));
    }
    SamplingResult result;
    switch (shared_.sampler_kind) {  // the default samplers decide inline (no virtual call)
      case TracerProvider::Shared::SamplerKind::kAlwaysOn:
        result.decision = SamplingDecision::kRecordAndSample;
        break;
      case TracerProvider::Shared::SamplerKind::kParentBasedAlwaysOn:
        result.decision = !parent.valid() || parent.sampled() ? SamplingDecision::kRecordAndSample
                                                              : SamplingDecision::kDrop;
        break;
      case TracerProvider::Shared::SamplerKind::kOther: {
        static const Attributes kNoAttributes;
        static const std::vector<Link> kNoLinks;
        result = options ? shared_.sampler->should_sample(parent, trace_id, name, options->kind,
                                                          options->attributes, options->links)
                         : shared_.sampler->should_sample(parent, trace_id, name,
                                                          SpanKind::kInternal, kNoAttributes,
                                                          kNoLinks);
        break;
      }
    }
    SpanId span_id = shared_.new_span_id();
    TraceFlags flags(result.decision == SamplingDecision::kRecordAndSample ? TraceFlags::kSampled
                                                                          : 0);
    SpanContext context = result.trace_state ? SpanContext(trace_id, span_id, flags, false,
                                                           std::move(*result.trace_state))
                          : parent.trace_state().empty()
                              ? SpanContext(trace_id, span_id, flags, false)  // no vector copy
                              : SpanContext(trace_id, span_id, flags, false, parent.trace_state());
    if (result.decision == SamplingDecision::kDrop) return make_non_recording_span(context);

    auto span = std::allocate_shared<SdkSpan>(internal::RecyclingAllocator<SdkSpan>(),
                                              shared_ptr_, scope_, std::move(context), parent,
                                              name, options, std::move(result.attributes));
    if (shared_.any_on_start) {
      for (const auto& p : shared_.processors) p->on_start(*span, *parent_ctx);
    }
    return span;
  }

 private:
  std::shared_ptr<const TracerProvider::Shared> shared_ptr_;
  const TracerProvider::Shared& shared_;  // *shared_ptr_
  const std::shared_ptr<const InstrumentationScope>& scope_;  // kept alive by *shared_ptr_
};

}  // namespace

// Few tracers per process, looked up often (instrumentation may call get_tracer per job): a
// linear scan over string_views allocates nothing.
struct TracerProvider::Tracers {
  struct Entry {
    std::string name, version, schema_url;
    TracerPtr tracer;
  };
  std::mutex mu;
  std::vector<Entry> entries;
};

TracerProvider::TracerProvider(TracerProviderOptions options) : shared_(std::make_shared<Shared>()) {
  Resource base = Resource::default_resource();
  shared_->resource = std::make_shared<const Resource>(
      options.resource ? base.merge(*options.resource) : std::move(base));
  shared_->sampler = options.sampler ? std::move(options.sampler) : default_sampler();
  if (shared_->sampler == default_sampler()) {  // ParentBased(AlwaysOn), spec defaults
    shared_->sampler_kind = Shared::SamplerKind::kParentBasedAlwaysOn;
  } else if (dynamic_cast<const AlwaysOnSampler*>(shared_->sampler.get())) {
    shared_->sampler_kind = Shared::SamplerKind::kAlwaysOn;
  }
  shared_->limits = options.limits;
  shared_->id_generator = std::move(options.id_generator);
  for (auto& p : options.processors) {
    if (!p) continue;
    // The built-in processors (final classes) keep SpanProcessor's empty on_start.
    if (!dynamic_cast<const BatchSpanProcessor*>(p.get()) &&
        !dynamic_cast<const SimpleSpanProcessor*>(p.get())) {
      shared_->any_on_start = true;
    }
    shared_->processors.push_back(std::move(p));
  }
  tracers_ = std::make_unique<Tracers>();
}

TracerProvider::~TracerProvider() { shutdown(); }

TracerPtr TracerProvider::get_tracer(std::string_view name, std::string_view version,
                                     std::string_view schema_url) {
  if (is_shut_down()) return noop_tracer();
  if (name.empty()) internal::warn_once("tracer-name", "get_tracer called with an empty name");
  std::lock_guard lock(tracers_->mu);
  for (const auto& e : tracers_->entries) {
    if (e.name == name && e.version == version && e.schema_url == schema_url) return e.tracer;
  }
  shared_->scopes.push_back(std::make_shared<const InstrumentationScope>(InstrumentationScope{
      std::string(name), std::string(version), std::string(schema_url), {}}));
  auto tracer = std::make_shared<SdkTracer>(shared_, shared_->scopes.back());
  tracers_->entries.push_back(
      {std::string(name), std::string(version), std::string(schema_url), tracer});
  return tracer;
}

bool TracerProvider::force_flush(std::chrono::milliseconds timeout) {
  auto deadline = util::deadline_after(timeout);
  bool ok = true;
  for (const auto& p : shared_->processors) ok = p->force_flush(util::time_left(deadline)) && ok;
  return ok;
}

bool TracerProvider::shutdown(std::chrono::milliseconds timeout) {
  if (shared_->shut_down.exchange(true)) return false;  // only the first call does the work
  auto deadline = util::deadline_after(timeout);
  bool ok = true;
  for (const auto& p : shared_->processors) ok = p->shutdown(util::time_left(deadline)) && ok;
  return ok;
}

bool TracerProvider::is_shut_down() const { return shared_->shut_down.load(); }
const Resource& TracerProvider::resource() const { return *shared_->resource; }
const Sampler& TracerProvider::sampler() const { return *shared_->sampler; }
const SpanLimits& TracerProvider::limits() const { return shared_->limits; }

}  // namespace kiq::otel::sdk
