#include "kiq/otel/span.hpp"

#include <cxxabi.h>
#include <execinfo.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "otel/internal/no_destructor.hpp"
#include "otel/internal/recycling.hpp"

namespace kiq::otel {
namespace {

// Span that only carries a context: what the API returns without an SDK, when sampled out,
// and what propagators put into an extracted Context.
class NonRecordingSpan final : public Span {
 public:
  explicit NonRecordingSpan(SpanContext context) : context_(std::move(context)) {}
  void add_event(std::string_view, Attributes, std::optional<Timestamp>) override {}
  void add_link(const SpanContext&, Attributes) override {}
  void set_status(StatusCode, std::string_view) override {}
  void update_name(std::string_view) override {}
  bool is_recording() const override { return false; }
  const SpanContext& context() const override { return context_; }

 protected:
  void do_end(const std::optional<Timestamp>&) override {}
  void do_set_attribute(std::string_view, AttributeValue) override {}
  void do_set_bool_attribute(std::string_view, bool) override {}
  void do_set_int_attribute(std::string_view, std::int64_t) override {}
  void do_set_double_attribute(std::string_view, double) override {}
  void do_set_string_attribute(std::string_view, std::string_view) override {}

 private:
  const SpanContext context_;
};

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

// "binary(_ZN3foo3barEv+0x1c) [0x55d...]" -> "binary(foo::bar()+0x1c) [0x55d...]".
std::string demangle_frame(std::string_view frame) {
  auto open = frame.find('(');
  auto plus = frame.find('+', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || plus == std::string_view::npos || plus == open + 1) {
    return std::string(frame);
  }
  std::string name(frame.substr(open + 1, plus - open - 1));
  return std::string(frame.substr(0, open + 1)) + demangle(name.c_str()) +
         std::string(frame.substr(plus));
}

// A short symbolized backtrace of the caller. Only runs when an exception is recorded on a
// recording span, never on the span hot path.
std::string short_backtrace() {
  constexpr int kMaxFrames = 24;
  constexpr int kSkip = 2;  // this function and record_exception
  void* frames[kMaxFrames];
  int n = ::backtrace(frames, kMaxFrames);
  if (n <= kSkip) return {};
  std::unique_ptr<char*, decltype(&std::free)> symbols(::backtrace_symbols(frames, n), &std::free);
  if (!symbols) return {};
  std::string out;
  for (int i = kSkip; i < n; ++i) {
    out += demangle_frame(symbols.get()[i]);
    out += '\n';
  }
  return out;
}

Attributes exception_attributes(std::string type, std::string message, Attributes extra) {
  Attributes attrs;
  attrs.reserve(3 + extra.size());
  attrs.push_back({"exception.type", std::move(type)});
  attrs.push_back({"exception.message", std::move(message)});
  if (auto trace = short_backtrace(); !trace.empty()) {
    attrs.push_back({"exception.stacktrace", std::move(trace)});
  }
  for (auto& a : extra) attrs.push_back(std::move(a));
  return attrs;
}

}  // namespace

// now_unix_nanos() is in clock.cpp.

std::string exception_type_name(const std::exception& e) { return demangle(typeid(e).name()); }

std::string current_exception_type_name() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  return t ? demangle(t->name()) : std::string("unknown");
}

void Span::record_exception(const std::exception& e, Attributes extra) {
  if (!is_recording()) return;
  add_event("exception", exception_attributes(exception_type_name(e), e.what(), std::move(extra)));
}

void Span::record_current_exception(Attributes extra) {
  if (!is_recording()) return;
  auto ex = std::current_exception();
  if (!ex) return;
  try {
    std::rethrow_exception(ex);
  } catch (const std::exception& e) {
    record_exception(e, std::move(extra));
  } catch (...) {
    add_event("exception",
              exception_attributes(current_exception_type_name(), {}, std::move(extra)));
  }
}

SpanPtr make_non_recording_span(const SpanContext& context) {
  // Recycled per thread: an extracted remote parent is made (and dropped) for every traced job.
  return std::allocate_shared<NonRecordingSpan>(internal::RecyclingAllocator<NonRecordingSpan>(),
                                                context);
}

const SpanPtr& invalid_span() {
  static internal::NoDestructor<const SpanPtr> kInvalid(
      std::make_shared<NonRecordingSpan>(SpanContext::invalid()));
  return *kInvalid;
}

}  // namespace kiq::otel
