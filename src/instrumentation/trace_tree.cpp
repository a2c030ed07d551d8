// Trace tree rendering for `kiq demo` and test diagnostics (see trace_tree.hpp).
#include "kiq/instrumentation/trace_tree.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace kiq::tracing {
namespace {

using otel::SpanKind;
using otel::StatusCode;
using otel::sdk::SpanData;

// ANSI styles, empty when colour is off so call sites stay unconditional.
struct Palette {
  explicit Palette(bool on) : on_(on) {}
  std::string wrap(std::string_view code, std::string_view text) const {
    if (!on_) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
  std::string name(std::string_view t) const { return wrap("1", t); }
  std::string dim(std::string_view t) const { return wrap("2", t); }
  std::string kind(std::string_view t) const { return wrap("36", t); }
  std::string time(std::string_view t) const { return wrap("33", t); }
  std::string event(std::string_view t) const { return wrap("35", t); }
  std::string error(std::string_view t) const { return wrap("1;31", t); }
  std::string link(std::string_view t) const { return wrap("34", t); }

 private:
  bool on_;
};

std::string_view kind_name(SpanKind kind) {
  switch (kind) {
    case SpanKind::kServer: return "SERVER";
    case SpanKind::kClient: return "CLIENT";
    case SpanKind::kProducer: return "PRODUCER";
    case SpanKind::kConsumer: return "CONSUMER";
    case SpanKind::kInternal: break;
  }
  return "";
}

std::string short_hex(const std::string& hex) { return hex.substr(0, 8); }

std::string cut(std::string text, std::size_t max) {
  if (max == 0 || text.size() <= max) return text;
  text.resize(max);
  return text + "…";
}

std::string format_double(double v) {
  std::string s = fmt::format("{:.4f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

template <class T>
std::string join_array(const std::vector<T>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += format_value(otel::AttributeValue(values[i]));
  }
  return out + "]";
}

std::string format_attributes(const otel::Attributes& attrs, const TreeOptions& options,
                              bool compact, const Palette& p, bool job_span = true) {
  std::string out;
  for (const auto& a : attrs) {
    if (compact && is_standard_job_attribute(a.key)) continue;
    // Spans inside a job repeat its jid: shown once, on the job's own spans.
    if (compact && !job_span && a.key == "sidekiq.job.jid") continue;
    if (a.key == "exception.stacktrace" && !options.show_stacktraces) continue;
    if (!out.empty()) out += "  ";
    out += p.dim(a.key + "=") + cut(format_value(a.value), options.max_value_chars);
  }
  return out;
}

struct Renderer {
  std::span<const SpanData> spans;
  const TreeOptions& options;
  Palette p;
  std::unordered_map<std::string, std::vector<std::size_t>> children;  // parent span id -> idx
  std::unordered_map<std::string, std::size_t> by_span_id;
  std::string out;

  void add_line(const std::string& prefix, const std::string& text) {
    out += prefix;
    out += text;
    out += '\n';
  }

  std::string link_target(const otel::SpanContext& ctx) const {
    auto found = by_span_id.find(ctx.span_id().to_hex());
    std::string where = fmt::format("trace {} span {}", short_hex(ctx.trace_id().to_hex()),
                                    short_hex(ctx.span_id().to_hex()));
    if (found != by_span_id.end()) where += fmt::format(" ({})", spans[found->second].name);
    return where;
  }

  void span_line(const SpanData& s, const std::string& prefix, const std::string& branch) {
    std::string line = branch + p.name(s.name);
    if (auto k = kind_name(s.kind); !k.empty()) line += "  " + p.kind(std::string(k));
    std::uint64_t dur = s.end_unix_nano > s.start_unix_nano ? s.end_unix_nano - s.start_unix_nano : 0;
    line += "  " + p.time(format_duration(dur));
    bool job_span = s.kind == SpanKind::kProducer || s.kind == SpanKind::kConsumer;
    std::string attrs = format_attributes(s.attributes, options, !options.all_attributes, p, job_span);
    if (!attrs.empty()) line += "  " + attrs;
    add_line(prefix, line);
  }

  void details(const SpanData& s, const std::string& indent) {
    for (const auto& l : s.links) add_line(indent, p.link("↪ link to " + link_target(l.context)));
    for (const auto& e : s.events) {
      std::int64_t offset = static_cast<std::int64_t>(e.time_unix_nano) -
                            static_cast<std::int64_t>(s.start_unix_nano);
      std::string when = offset < 0 ? "-" + format_duration(static_cast<std::uint64_t>(-offset))
                                     : "+" + format_duration(static_cast<std::uint64_t>(offset));
      std::string line = p.event("• " + e.name) + "  " + p.dim(when);
      std::string attrs = format_attributes(e.attributes, options, false, p);
      if (!attrs.empty()) line += "  " + attrs;
      add_line(indent, line);
    }
    if (s.status_code == StatusCode::kError) {
      add_line(indent, p.error("✗ ERROR" + (s.status_description.empty()
                                                ? std::string()
                                                : ": " + s.status_description)));
    }
  }

  void walk(std::size_t idx, const std::string& prefix, bool last, std::unordered_set<std::size_t>& seen) {
    if (!seen.insert(idx).second) return;  // defensive: a malformed parent cycle
    const SpanData& s = spans[idx];
    span_line(s, prefix, last ? "└─ " : "├─ ");
    std::string child_prefix = prefix + (last ? "   " : "│  ");
    auto it = children.find(s.context.span_id().to_hex());
    bool has_children = it != children.end() && !it->second.empty();
    details(s, child_prefix + (has_children ? "│    " : "     "));
    if (!has_children) return;
    const auto& kids = it->second;
    for (std::size_t i = 0; i < kids.size(); ++i) walk(kids[i], child_prefix, i + 1 == kids.size(), seen);
  }
};

}  // namespace

bool is_standard_job_attribute(std::string_view key) {
  static constexpr std::array<std::string_view, 15> kStandard = {
      "messaging.system", "messaging.destination", "messaging.destination_kind",
      "messaging.sidekiq.job_class", "messaging.message_id", "messaging.operation",
      "sidekiq.job.queue", "sidekiq.worker.name", "sidekiq.job.retry",
      "messaging.destination.name", "messaging.message.id", "messaging.operation.type",
      "messaging.operation.name", "peer.service", "sidekiq.job.class"};
  return std::find(kStandard.begin(), kStandard.end(), key) != kStandard.end();
}

std::string format_duration(std::uint64_t nanos) {
  if (nanos < 1'000) return fmt::format("{} ns", nanos);
  if (nanos < 1'000'000) return fmt::format("{} µs", nanos / 1'000);
  if (nanos < 1'000'000'000) return fmt::format("{:.1f} ms", static_cast<double>(nanos) / 1e6);
  return fmt::format("{:.2f} s", static_cast<double>(nanos) / 1e9);
}

std::string format_value(const otel::AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>) return fmt::format("{}", v);
        else if constexpr (std::is_same_v<T, double>) return format_double(v);
        else if constexpr (std::is_same_v<T, std::string>) return v;
        else return join_array(v);
      },
      value);
}

std::string render_traces(std::span<const SpanData> spans, const TreeOptions& options) {
  Renderer r{spans, options, Palette(options.color), {}, {}, {}};
  // Group by trace, remembering each trace's earliest start for ordering.
  std::map<std::string, std::vector<std::size_t>> traces;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    traces[spans[i].context.trace_id().to_hex()].push_back(i);
    r.by_span_id.emplace(spans[i].context.span_id().to_hex(), i);
  }
  auto by_start = [&](std::size_t a, std::size_t b) {
    return spans[a].start_unix_nano < spans[b].start_unix_nano;
  };
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (auto& [trace, members] : traces) {
    std::sort(members.begin(), members.end(), by_start);
    order.emplace_back(spans[members.front()].start_unix_nano, trace);
  }
  std::sort(order.begin(), order.end());

  for (const auto& [start, trace] : order) {
    const auto& members = traces[trace];
    std::unordered_set<std::string> ids;
    for (auto i : members) ids.insert(spans[i].context.span_id().to_hex());
    std::vector<std::size_t> roots;
    for (auto i : members) {
      const SpanData& s = spans[i];
      if (s.has_parent() && ids.count(s.parent_span_id.to_hex()))
        r.children[s.parent_span_id.to_hex()].push_back(i);
      else
        roots.push_back(i);
    }
    r.add_line("", r.p.dim(fmt::format("trace {}  {} span{}", trace, members.size(),
                                       members.size() == 1 ? "" : "s")));
    std::unordered_set<std::size_t> seen;
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const SpanData& s = spans[roots[i]];
      if (s.has_parent())
        r.add_line("", r.p.dim(fmt::format("(parent {} not recorded here)",
                                           short_hex(s.parent_span_id.to_hex()))));
      r.walk(roots[i], "", i + 1 == roots.size(), seen);
    }
    r.out += '\n';
  }
  return r.out;
}

}  // namespace kiq::tracing
