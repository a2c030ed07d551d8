#include "otel/sdk/sdk_span.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "otel/internal/log.hpp"
#include "otel/internal/text.hpp"

namespace kiq::otel::sdk {
namespace {

constexpr std::size_t kInitialAttributeCapacity = 8;  // one allocation for typical spans

// The length of `s` cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::size_t cut_length(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return s.size();
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return cut;
}

// Cuts a string to at most `limit` bytes without splitting a UTF-8 sequence.
void truncate_string(std::string& s, std::size_t limit) {
  if (s.size() > limit) s.resize(cut_length(s, limit));
}

void truncate_value(AttributeValue& v, std::size_t limit) {
  if (limit == SpanLimits::kUnlimited) return;
  if (auto* s = std::get_if<std::string>(&v)) {
    truncate_string(*s, limit);
  } else if (auto* arr = std::get_if<std::vector<std::string>>(&v)) {
    for (auto& e : *arr) truncate_string(e, limit);
  }
}

// Moves `from` into `to`. Scalars and strings, the common cases, are stored directly instead of
// through the variant's generic (visit-based) assignment; a string replacing a string reuses the
// target's buffer.
[[gnu::always_inline]] inline void move_value(AttributeValue& to, AttributeValue&& from) {
  const std::size_t index = from.index();
  if (index <= 3 && to.index() == index) {
    switch (index) {
      case 0: *std::get_if<0>(&to) = *std::get_if<0>(&from); return;
      case 1: *std::get_if<1>(&to) = *std::get_if<1>(&from); return;
      case 2: *std::get_if<2>(&to) = *std::get_if<2>(&from); return;
      default: *std::get_if<3>(&to) = std::move(*std::get_if<3>(&from)); return;
    }
  }
  switch (index) {
    case 0: to.emplace<0>(*std::get_if<0>(&from)); break;
    case 1: to.emplace<1>(*std::get_if<1>(&from)); break;
    case 2: to.emplace<2>(*std::get_if<2>(&from)); break;
    case 3: to.emplace<3>(std::move(*std::get_if<3>(&from))); break;
    default: to = std::move(from); break;
  }
}

using internal::equal_short;

// Stores a scalar of alternative I into `to` (in place when it already holds one).
template <std::size_t I, class T>
[[gnu::always_inline]] inline void store_scalar(AttributeValue& to, T v) {
  if (auto* p = std::get_if<I>(&to)) {
    *p = v;
  } else {
    to.emplace<I>(v);
  }
}

// Stores a string into `to`, reusing its buffer when it already holds a string (values repeat
// too: a reused entry often holds the very same value, e.g. a queue or job class name).
[[gnu::always_inline]] inline void store_string(AttributeValue& to, std::string_view v) {
  if (auto* p = std::get_if<3>(&to)) {
    internal::assign_if_different(*p, v);
  } else {
    to.emplace<3>(v);
  }
}

// Sets `key` in the first `count` entries of `attrs` under the count limit, the value being
// written by write(AttributeValue&); entries past `count` are left over from an earlier span
// and are overwritten in place (usually with the same key: no key copy). Returns true when the
// attribute was dropped because the count limit was reached (an existing key is replaced,
// never dropped). Inlined: it is most of set_attribute, the hottest call of instrumented code.
template <class Write>
[[gnu::always_inline]] inline bool put_attribute(Attributes& attrs, std::uint32_t& count,
                                                 std::string_view key, std::size_t count_limit,
                                                 Write&& write) {
  if (key.empty()) return false;  // invalid key: ignored, not counted
  Attribute* const live = attrs.data();
  for (std::uint32_t i = 0; i < count; ++i) {
    if (equal_short(live[i].key, key)) {
      write(live[i].value);
      return false;
    }
  }
  if (count >= count_limit) return true;
  if (count < attrs.size()) {
    Attribute& reused = live[count];
    internal::assign_if_different(reused.key, key);
    write(reused.value);
  } else {
    Attribute& added = attrs.emplace_back();  // built in place: no temporary to move
    added.key.assign(key.data(), key.size());
    write(added.value);
  }
  ++count;
  return false;
}

// put_attribute of a whole AttributeValue (truncated to `length_limit` first).
[[gnu::always_inline]] inline bool put_attribute(Attributes& attrs, std::uint32_t& count,
                                                 std::string_view key, AttributeValue&& value,
                                                 std::size_t count_limit,
                                                 std::size_t length_limit) {
  if (value.index() > 2) truncate_value(value, length_limit);  // strings and arrays only
  return put_attribute(attrs, count, key, count_limit,
                       [&](AttributeValue& to) { move_value(to, std::move(value)); });
}

// Copies `from` into `to` (cut to `length_limit`), reusing `to`'s string buffer: a pooled
// record's value usually has room already, so copying costs no allocation where moving would
// free the record's buffer and keep the caller's.
[[gnu::always_inline]] inline void copy_value(AttributeValue& to, const AttributeValue& from,
                                              std::size_t length_limit) {
  switch (from.index()) {
    case 0: store_scalar<0>(to, *std::get_if<0>(&from)); return;
    case 1: store_scalar<1>(to, *std::get_if<1>(&from)); return;
    case 2: store_scalar<2>(to, *std::get_if<2>(&from)); return;
    case 3: {
      std::string_view v = *std::get_if<3>(&from);
      store_string(to, v.substr(0, cut_length(v, length_limit)));
      return;
    }
    default:
      to = from;
      truncate_value(to, length_limit);
      return;
  }
}

// put_attribute of a copy of `value`.
[[gnu::always_inline]] inline bool put_attribute_copy(Attributes& attrs, std::uint32_t& count,
                                                      std::string_view key,
                                                      const AttributeValue& value,
                                                      std::size_t count_limit,
                                                      std::size_t length_limit) {
  return put_attribute(attrs, count, key, count_limit,
                       [&](AttributeValue& to) { copy_value(to, value, length_limit); });
}

// How many leading entries of `given` have the key of the same entry of `record`, among its
// first `distinct` entries (whose keys are known to differ) and at most `count_limit`. Spans
// started from one place give the same keys in the same order as the earlier span whose
// attributes a pooled record holds: such a prefix has no duplicate key, so its values are
// stored without put_attribute's duplicate search (the entries after it still get it).
std::size_t same_keys_prefix(const Attributes& record, std::size_t distinct,
                             const Attributes& given, std::size_t count_limit) {
  const std::size_t n = std::min({distinct, record.size(), given.size(), count_limit});
  std::size_t i = 0;
  while (i < n && equal_short(record[i].key, given[i].key)) ++i;
  return i;
}

// Builds a limited attribute list; returns the number dropped.
std::uint32_t limited(Attributes& out, Attributes&& in, std::size_t count_limit,
                      std::size_t length_limit) {
  std::uint32_t dropped = 0;
  std::uint32_t count = 0;
  out.reserve(std::min(in.size(), count_limit));
  for (auto& a : in) {
    dropped += put_attribute(out, count, a.key, std::move(a.value), count_limit, length_limit);
  }
  return dropped;
}

// The same from a list the caller keeps.
std::uint32_t limited_copy(Attributes& out, const Attributes& in, std::size_t count_limit,
                           std::size_t length_limit) {
  std::uint32_t dropped = 0;
  std::uint32_t count = 0;
  out.reserve(std::min(in.size(), count_limit));
  for (const auto& a : in) {
    dropped += put_attribute_copy(out, count, a.key, a.value, count_limit, length_limit);
  }
  return dropped;
}

// A pooled record must not keep much memory or anything of a provider alive (it may wait in
// the pool for the rest of the thread's life).
constexpr std::size_t kMaxPooledAttributes = 32;
constexpr std::size_t kMaxPooledEvents = 8;
constexpr std::size_t kMaxPooledLinks = 4;

void report_limit(const char* what) {
  internal::warn_once(what, "span limit reached: {} dropped (reported once)", what);
}

}  // namespace

SdkSpan::SdkSpan(std::shared_ptr<const TracerProvider::Shared> shared,
                 const std::shared_ptr<const InstrumentationScope>& scope, SpanContext&& context,
                 const SpanContext& parent, std::string_view name,
                 const StartSpanOptions* options, Attributes&& sampler_attributes)
    : shared_(std::move(shared)),
      scope_(scope),
      context_(std::move(context)),
      record_(SpanRecordPool::take()),
      data_(record_->data) {
  const SpanLimits& limits = shared_->limits;
  // A pooled record holds an earlier span's data: every field is set here or at end(), except
  // the attribute entries past attribute_count_ (reused, then cut off at end()).
  SpanData& d = data_;
  if (parent.valid()) {
    d.parent_span_id = parent.span_id();
    d.parent_is_remote = parent.is_remote();
  } else {
    d.parent_span_id = SpanId();
    d.parent_is_remote = false;
  }
  internal::assign_if_different(d.name, name);  // spans from one place share a name
  d.kind = options ? options->kind : SpanKind::kInternal;
  d.start_unix_nano = options && options->start_time ? to_unix_nanos(*options->start_time)
                                                    : now_unix_nanos();
  d.end_unix_nano = 0;
  d.dropped_attributes_count = 0;
  if (!d.events.empty()) d.events.clear();
  d.dropped_events_count = 0;
  if (!d.links.empty()) d.links.clear();
  d.dropped_links_count = 0;
  d.status_code = StatusCode::kUnset;
  if (!d.status_description.empty()) d.status_description.clear();
  const std::size_t given =
      (options ? options->attributes.size() : 0) + sampler_attributes.size();
  const std::size_t distinct = std::exchange(record_->distinct_keys, 0);  // set again at the end
  if (d.attributes.capacity() == 0) {  // a new record (or one whose data was moved away)
    // Room for attributes set after the start too (one allocation for typical spans).
    d.attributes.reserve(std::min(limits.attribute_count_limit,
                                  std::max(kInitialAttributeCapacity, given + given / 2)));
  }
  if (given != 0) {
    if (options) {  // copied: the caller keeps its options (see StartSpanOptions)
      const Attributes& in = options->attributes;
      std::size_t i = same_keys_prefix(d.attributes, distinct, in, limits.attribute_count_limit);
      for (std::size_t k = 0; k < i; ++k) {
        copy_value(d.attributes[k].value, in[k].value, limits.attribute_value_length_limit);
      }
      attribute_count_ = static_cast<std::uint32_t>(i);
      for (; i < in.size(); ++i) {
        d.dropped_attributes_count += put_attribute_copy(
            d.attributes, attribute_count_, in[i].key, in[i].value, limits.attribute_count_limit,
            limits.attribute_value_length_limit);
      }
    }
    for (auto& a : sampler_attributes) {
      d.dropped_attributes_count +=
          put_attribute(d.attributes, attribute_count_, a.key, std::move(a.value),
                        limits.attribute_count_limit, limits.attribute_value_length_limit);
    }
    if (d.dropped_attributes_count) report_limit("attributes");
  }
  if (options) {
    for (const auto& l : options->links) add_link_locked(l.context, l.attributes);
  }
}

SdkSpan::~SdkSpan() {
  // Before the record goes back to the pool (record_'s deleter): drop what must not be kept.
  SpanData& d = data_;
  // Never ended: this span's own entries come first, distinct (do_end sets it otherwise).
  if (!ended_.load(std::memory_order_relaxed)) record_->distinct_keys = attribute_count_;
  if (d.resource) d.resource.reset();
  if (d.scope) d.scope.reset();
  if (d.attributes.capacity() > kMaxPooledAttributes) Attributes().swap(d.attributes);
  // Events and links: the entries go (they may be large, e.g. a stack trace), the room stays.
  if (d.events.capacity() > kMaxPooledEvents) {
    std::vector<EventData>().swap(d.events);
  } else if (!d.events.empty()) {
    d.events.clear();
  }
  if (d.links.capacity() > kMaxPooledLinks) {
    std::vector<LinkData>().swap(d.links);
  } else if (!d.links.empty()) {
    d.links.clear();
  }
}

template <class Write>
void SdkSpan::set_attribute_with(std::string_view key, Write&& write) {
  std::lock_guard lock(mu_);
  if (ended_.load(std::memory_order_relaxed)) return;
  if (put_attribute(data_.attributes, attribute_count_, key, shared_->limits.attribute_count_limit,
                    std::forward<Write>(write))) {
    ++data_.dropped_attributes_count;
    report_limit("attributes");
  }
}

void SdkSpan::do_set_attribute(std::string_view key, AttributeValue value) {
  const std::size_t length_limit = shared_->limits.attribute_value_length_limit;
  if (value.index() > 2) truncate_value(value, length_limit);  // strings and arrays only
  set_attribute_with(key, [&](AttributeValue& to) { move_value(to, std::move(value)); });
}

void SdkSpan::do_set_bool_attribute(std::string_view key, bool v) {
  set_attribute_with(key, [v](AttributeValue& to) { store_scalar<0>(to, v); });
}

void SdkSpan::do_set_int_attribute(std::string_view key, std::int64_t v) {
  set_attribute_with(key, [v](AttributeValue& to) { store_scalar<1>(to, v); });
}

void SdkSpan::do_set_double_attribute(std::string_view key, double v) {
  set_attribute_with(key, [v](AttributeValue& to) { store_scalar<2>(to, v); });
}

void SdkSpan::do_set_string_attribute(std::string_view key, std::string_view v) {
  v = v.substr(0, cut_length(v, shared_->limits.attribute_value_length_limit));
  set_attribute_with(key, [v](AttributeValue& to) { store_string(to, v); });
}

void SdkSpan::add_event(std::string_view name, Attributes attributes,
                        std::optional<Timestamp> timestamp) {
  if (!is_recording()) return;
  const SpanLimits& limits = shared_->limits;
  EventData event;
  event.name.assign(name);
  event.time_unix_nano = timestamp ? to_unix_nanos(*timestamp) : now_unix_nanos();
  event.dropped_attributes_count =
      limited(event.attributes, std::move(attributes), limits.attribute_per_event_count_limit,
              limits.attribute_value_length_limit);
  std::lock_guard lock(mu_);
  if (ended_.load(std::memory_order_relaxed)) return;
  if (data_.events.size() >= limits.event_count_limit) {
    ++data_.dropped_events_count;
    report_limit("events");
    return;
  }
  data_.events.push_back(std::move(event));
}

void SdkSpan::add_link(const SpanContext& context, Attributes attributes) {
  std::lock_guard lock(mu_);
  if (ended_.load(std::memory_order_relaxed)) return;
  add_link_locked(context, attributes);
}

void SdkSpan::add_link_locked(const SpanContext& context, const Attributes& attributes) {
  if (!context.valid()) return;  // links to invalid contexts carry no information
  const SpanLimits& limits = shared_->limits;
  if (data_.links.size() >= limits.link_count_limit) {
    ++data_.dropped_links_count;
    report_limit("links");
    return;
  }
  LinkData link;
  link.context = context;
  link.dropped_attributes_count =
      limited_copy(link.attributes, attributes, limits.attribute_per_link_count_limit,
                   limits.attribute_value_length_limit);
  data_.links.push_back(std::move(link));
}

void SdkSpan::set_status(StatusCode code, std::string_view description) {
  std::lock_guard lock(mu_);
  if (ended_.load(std::memory_order_relaxed)) return;
  // Spec precedence: Unset is ignored, Ok is final, a description only goes with Error.
  if (code == StatusCode::kUnset || data_.status_code == StatusCode::kOk) return;
  data_.status_code = code;
  if (code == StatusCode::kError) {
    data_.status_description.assign(description);
  } else {
    data_.status_description.clear();
  }
}

void SdkSpan::update_name(std::string_view name) {
  std::lock_guard lock(mu_);
  if (ended_.load(std::memory_order_relaxed)) return;
  data_.name.assign(name);
}

void SdkSpan::do_end(const std::optional<Timestamp>& end_time) {
  std::uint64_t end_ns = end_time ? to_unix_nanos(*end_time) : now_unix_nanos();
  {
    std::lock_guard lock(mu_);
    if (ended_.load(std::memory_order_relaxed)) return;
    ended_.store(true, std::memory_order_release);
    // An implicit end never precedes the start (clock readings of two threads may differ by
    // a few ns, see now_unix_nanos()).
    if (!end_time && end_ns < data_.start_unix_nano) end_ns = data_.start_unix_nano;
    data_.end_unix_nano = end_ns;
  }
  // From here on this thread owns data_ exclusively (every mutator checks ended_ under mu_).
  if (data_.attributes.size() > attribute_count_) {  // entries left over from an earlier span
    data_.attributes.erase(data_.attributes.begin() + attribute_count_, data_.attributes.end());
  }
  if (context_.trace_state().empty()) {  // the common case: no out-of-line vector copy
    data_.context = SpanContext(context_.trace_id(), context_.span_id(), context_.trace_flags(),
                                context_.is_remote());
  } else {
    data_.context = context_;
  }
  // The attribute list is now this span's own, its keys distinct.
  const Attribute* const list = data_.attributes.data();
  const std::size_t count = data_.attributes.size();
  const auto& processors = shared_->processors;
  if (processors.empty()) {
    record_->distinct_keys = count;
    return;
  }
  const SpanOrigin origin{shared_->resource, scope_};
  for (std::size_t i = 0; i + 1 < processors.size(); ++i) {
    SpanData copy = data_;
    processors[i]->on_end_from(std::move(copy), origin);
  }
  // The last processor gets the original. When it leaves the list in place (the batch
  // processor with a serializing exporter only reads it) the next span on this record can
  // rely on its keys being distinct; a list moved or swapped away may hold anything.
  processors.back()->on_end_from(std::move(data_), origin);
  if (data_.attributes.data() == list && data_.attributes.size() == count) {
    record_->distinct_keys = count;
  }
}

}  // namespace kiq::otel::sdk
