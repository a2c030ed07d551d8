#include "kiq/otel/sdk/exporters/console.hpp"

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>

#include <fmt/format.h>

namespace kiq::otel::sdk {
namespace {

constexpr std::size_t kMaxShownChars = 80;     // long values are cut in the tree view
constexpr std::size_t kMaxTreeAttributes = 6;  // per span in the tree view

const char* kind_name(SpanKind k) {
  switch (k) {
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
    default: return "internal";
  }
}

std::string duration_text(std::uint64_t start, std::uint64_t end) {
  double ms = end >= start ? static_cast<double>(end - start) / 1e6 : 0.0;
  return fmt::format("{:.3f}ms", ms);
}

std::string status_text(const SpanData& s) {
  switch (s.status_code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kError: return fmt::format("error(\"{}\")", s.status_description);
    default: return "unset";
  }
}

std::string shorten(std::string s) {
  if (s.size() > kMaxShownChars) {
    s.resize(kMaxShownChars);
    s += "...";
  }
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string attributes_text(const Attributes& attrs, std::size_t max, bool cut) {
  std::string out;
  std::size_t n = 0;
  for (const auto& a : attrs) {
    if (n == max) {
      out += fmt::format(" (+{} more)", attrs.size() - n);
      break;
    }
    if (n++) out += ' ';
    std::string v = attribute_value_to_string(a.value);
    out += a.key + "=" + (cut ? shorten(std::move(v)) : v);
  }
  return out;
}

}  // namespace

std::string attribute_value_to_string(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return fmt::format("\"{}\"", v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
          return fmt::format("{}", v);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            using E = typename T::value_type;
            if constexpr (std::is_same_v<E, std::string>) {
              out += fmt::format("\"{}\"", v[i]);
            } else if constexpr (std::is_same_v<E, bool>) {
              out += v[i] ? "true" : "false";
            } else {
              out += fmt::format("{}", v[i]);
            }
          }
          return out + "]";
        }
      },
      value);
}

std::string format_span_line(const SpanData& s) {
  std::string events;
  for (const auto& e : s.events) {
    if (!events.empty()) events += ", ";
    events += e.name;
  }
  return fmt::format(
      "span \"{}\" trace={} span={} parent={} kind={} duration={} status={} attrs={{{}}} "
      "events=[{}] links={}",
      s.name, s.context.trace_id().to_hex(), s.context.span_id().to_hex(),
      s.has_parent() ? s.parent_span_id.to_hex() : "-", kind_name(s.kind),
      duration_text(s.start_unix_nano, s.end_unix_nano), status_text(s),
      attributes_text(s.attributes, SIZE_MAX, false), events, s.links.size());
}

std::string render_trace_tree(std::span<const SpanData> spans) {
  // Group by trace in order of first appearance.
  std::vector<TraceId> order;
  std::map<std::string, std::vector<const SpanData*>> by_trace;
  for (const auto& s : spans) {
    auto key = s.context.trace_id().to_hex();
    auto& list = by_trace[key];
    if (list.empty()) order.push_back(s.context.trace_id());
    list.push_back(&s);
  }
  std::string out;
  for (const auto& trace_id : order) {
    auto& list = by_trace[trace_id.to_hex()];
    std::sort(list.begin(), list.end(), [](const SpanData* a, const SpanData* b) {
      return a->start_unix_nano < b->start_unix_nano;
    });
    auto present = [&](const SpanId& id) {
      return std::any_of(list.begin(), list.end(),
                         [&](const SpanData* s) { return s->context.span_id() == id; });
    };
    out += fmt::format("trace {}\n", trace_id.to_hex());
    std::function<void(const SpanData*, int)> print = [&](const SpanData* s, int depth) {
      std::string indent(static_cast<std::size_t>(2 * depth + 2), ' ');
      out += fmt::format("{}{} [{}] {}", indent, s->name, kind_name(s->kind),
                         duration_text(s->start_unix_nano, s->end_unix_nano));
      if (s->status_code != StatusCode::kUnset) out += " status=" + status_text(*s);
      if (!s->attributes.empty()) {
        out += "  " + attributes_text(s->attributes, kMaxTreeAttributes, true);
      }
      if (!s->links.empty()) out += fmt::format("  links={}", s->links.size());
      out += '\n';
      for (const auto& e : s->events) {
        double at_ms = e.time_unix_nano >= s->start_unix_nano
                           ? static_cast<double>(e.time_unix_nano - s->start_unix_nano) / 1e6
                           : -static_cast<double>(s->start_unix_nano - e.time_unix_nano) / 1e6;
        out += fmt::format("{}  * {} @{:+.3f}ms", indent, e.name, at_ms);
        std::vector<Attribute> shown;
        for (const auto& a : e.attributes) {
          if (a.key != "exception.stacktrace") shown.push_back(a);
        }
        if (!shown.empty()) out += "  " + attributes_text(shown, kMaxTreeAttributes, true);
        out += '\n';
      }
      for (const SpanData* c : list) {
        if (c->has_parent() && c->parent_span_id == s->context.span_id()) print(c, depth + 1);
      }
    };
    for (const SpanData* s : list) {
      if (!s->has_parent() || !present(s->parent_span_id)) print(s, 0);
    }
  }
  return out;
}

ConsoleSpanExporter::ConsoleSpanExporter(std::ostream* out) : out_(out ? out : &std::cout) {}

ExportResult ConsoleSpanExporter::export_spans(std::span<const SpanData> batch) {
  std::lock_guard lock(mu_);
  if (shut_down_) return ExportResult::kFailure;
  for (const auto& s : batch) *out_ << format_span_line(s) << '\n';
  out_->flush();
  return ExportResult::kSuccess;
}

bool ConsoleSpanExporter::shutdown(std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  return true;
}

}  // namespace kiq::otel::sdk
