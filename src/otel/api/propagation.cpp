#include "kiq/otel/propagation.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "otel/internal/cached_global.hpp"
#include "otel/internal/no_destructor.hpp"
#include "otel/internal/log.hpp"
#include "otel/internal/text.hpp"

namespace kiq::otel {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

PropagatorPtr default_propagator() {
  return std::make_shared<CompositePropagator>(std::vector<PropagatorPtr>{
      std::make_shared<TraceContextPropagator>(), std::make_shared<BaggagePropagator>()});
}

struct PropagatorTag;
using GlobalPropagator = internal::CachedGlobal<const TextMapPropagator, PropagatorTag>;

GlobalPropagator& global() {
  static internal::NoDestructor<GlobalPropagator> g(default_propagator());
  return *g;
}

}  // namespace

CompositePropagator::CompositePropagator(std::vector<PropagatorPtr> propagators) {
  for (auto& p : propagators) {
    if (p) propagators_.push_back(std::move(p));
  }
}

void CompositePropagator::inject(const Context& context, TextMapCarrier& carrier) const {
  for (const auto& p : propagators_) p->inject(context, carrier);
}

Context CompositePropagator::extract(const TextMapCarrier& carrier, const Context& context) const {
  Context out = context;
  for (const auto& p : propagators_) out = p->extract(carrier, out);
  return out;
}

std::vector<std::string> CompositePropagator::fields() const {
  std::vector<std::string> out;
  for (const auto& p : propagators_) {
    for (auto& f : p->fields()) {
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
    }
  }
  return out;
}

PropagatorPtr make_propagator(std::string_view list) {
  if (internal::trim_ows(list).empty()) return default_propagator();
  std::vector<std::string> names;
  internal::split(list, ',', [&](std::string_view n) {
    std::string name = lowercase(internal::trim_ows(n));
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  });
  std::vector<PropagatorPtr> parts;
  for (const auto& name : names) {
    if (name == "tracecontext") {
      parts.push_back(std::make_shared<TraceContextPropagator>());
    } else if (name == "baggage") {
      parts.push_back(std::make_shared<BaggagePropagator>());
    } else if (name == "none") {
      // "none" means no propagation; other names in the list are still honoured.
    } else {
      internal::warn("OTEL_PROPAGATORS: unsupported propagator '{}' ignored", name);
    }
  }
  return std::make_shared<CompositePropagator>(std::move(parts));
}

std::uint64_t global_propagator_generation() noexcept { return global().generation(); }

PropagatorPtr global_propagator() { return global().get(); }

void set_global_propagator(PropagatorPtr propagator) {
  global().set(propagator ? std::move(propagator) : default_propagator());
}

}  // namespace kiq::otel
