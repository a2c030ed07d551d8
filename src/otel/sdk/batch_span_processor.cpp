#include "kiq/otel/sdk/batch_span_processor.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "otel/internal/log.hpp"
#include "otel/internal/spin_lock.hpp"
#include "otel/internal/text.hpp"
#include "otel/internal/thread_slot.hpp"
#include "util/deadline.hpp"

namespace kiq::otel::sdk {

namespace {

// Moves `from`'s contents into `to` (the slot of an exported span), except resource and scope
// (which a slot keeps, see Slots), and gives `from` the slot's reusable buffers: the attribute
// list (with its keys), events, links. Cheaper than a full swap: the small fields are copied,
// the name is copied into the slot's own buffer when it fits, empty containers are not touched.
// Never allocates (on_end must not throw).
void take_contents(SpanData& to, SpanData& from) noexcept {
  to.context = std::move(from.context);
  to.parent_span_id = from.parent_span_id;
  to.parent_is_remote = from.parent_is_remote;
  if (from.name.size() <= to.name.capacity()) {
    internal::assign_if_different(to.name, from.name);  // fits: no allocation
  } else {
    to.name.swap(from.name);
  }
  to.kind = from.kind;
  to.start_unix_nano = from.start_unix_nano;
  to.end_unix_nano = from.end_unix_nano;
  to.attributes.swap(from.attributes);
  to.dropped_attributes_count = from.dropped_attributes_count;
  if (!to.events.empty() || !from.events.empty()) to.events.swap(from.events);
  to.dropped_events_count = from.dropped_events_count;
  if (!to.links.empty() || !from.links.empty()) to.links.swap(from.links);
  to.dropped_links_count = from.dropped_links_count;
  to.status_code = from.status_code;
  if (!to.status_description.empty() || !from.status_description.empty()) {
    to.status_description.swap(from.status_description);
  }
}

// A batch of span slots. Slots past `count` hold spans that were already exported: on_end
// SWAPS a new span with such a slot, so the ending span's record (sdk_span.hpp) gets the stale
// span's buffers back for reuse and nothing is freed or allocated. Memory thus stays with the
// span threads, and the export thread never frees span memory (cross-thread frees made glibc
// trim and re-fault pages, which cost more than the whole rest of a span).
//
// `span` arrives without resource/scope (SpanProcessor::on_end_from); a reused slot keeps the
// previous span's ones, which are almost always the same, so they are copied (two atomic
// refcount updates each) only when they differ.
struct Slots {
  static_assert(std::is_nothrow_move_constructible_v<SpanData>);
  std::vector<SpanData> spans;
  std::size_t count = 0;

  // Takes `span`'s contents; leaves in `span` those of an exported span (or nothing).
  void add(SpanData& span, const SpanOrigin& origin) {
    if (count < spans.size()) {
      SpanData& slot = spans[count];
      take_contents(slot, span);
      if (slot.resource != origin.resource) slot.resource = origin.resource;
      if (slot.scope != origin.scope) slot.scope = origin.scope;
    } else {
      span.resource = origin.resource;
      span.scope = origin.scope;
      spans.push_back(std::move(span));
    }
    ++count;
  }
};

// A fixed-capacity byte buffer that span threads fill and the export thread reads: allocated
// once (no zero-fill, never regrown and copied), then reused batch after batch.
// (Streaming stores were tried for append(), since the bytes are read by another core: the
// drain got ~10% slower; the export thread then reads them from memory instead of the shared
// cache.)
class SpanBytes {
 public:
  SpanBytes() = default;
  explicit SpanBytes(std::size_t capacity)
      : data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}
  SpanBytes(SpanBytes&& other) noexcept { *this = std::move(other); }
  SpanBytes& operator=(SpanBytes&& other) noexcept {
    data_ = std::move(other.data_);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  bool fits(std::size_t n) const { return capacity_ - size_ >= n; }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }
  // Touches every page now (a new buffer's page faults then happen off the span threads).
  void touch() { std::memset(data_.get(), 0, capacity_); }

  // Requires fits(bytes.size()).
  void append(std::string_view bytes) {
    std::memcpy(data_.get() + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// The queue of a processor whose exporter serializes (SpanExporter::serializer()): spans as
// bytes, in chunks of one resource and scope holding up to max_export_batch_size spans (one
// request's worth). A span thread serializes outside the lock and only appends under it.
struct Chunk {
  std::shared_ptr<const Resource> resource;
  std::shared_ptr<const InstrumentationScope> scope;
  SpanBytes bytes;
  std::size_t count = 0;
};

struct Chunks {
  std::vector<Chunk> list;
  std::size_t spans = 0;

  // The chunk for a span of `origin` and `n` bytes: the newest one of that origin with room
  // (spans of one process nearly always share one resource and a few scopes, so it is found
  // among the last few), else a new chunk on a spare buffer, or a new buffer of `capacity`
  // (at least n) bytes.
  Chunk& open(const SpanOrigin& origin, std::size_t n, std::size_t batch_size,
              std::size_t capacity, std::vector<SpanBytes>& spare) {
    const std::size_t look = std::min<std::size_t>(list.size(), 4);
    for (std::size_t i = list.size(); i > list.size() - look; --i) {
      Chunk& c = list[i - 1];
      if (c.scope == origin.scope && c.resource == origin.resource && c.count < batch_size &&
          c.bytes.fits(n)) {
        return c;
      }
    }
    SpanBytes bytes;
    if (!spare.empty() && spare.back().fits(n)) {
      bytes = std::move(spare.back());
      spare.pop_back();
    } else {
      bytes = SpanBytes(std::max(capacity, n));
    }
    Chunk& c = list.emplace_back();
    c.resource = origin.resource;
    c.scope = origin.scope;
    c.bytes = std::move(bytes);
    return c;
  }

  // Moves the chunks holding `batch_size` spans to `out` (empty), keeping their order; false
  // (nothing moved) when there are none.
  bool take_full(Chunks& out, std::size_t batch_size);
};

bool Chunks::take_full(Chunks& out, std::size_t batch_size) {
  auto full = [&](const Chunk& c) { return c.count >= batch_size; };
  if (std::none_of(list.begin(), list.end(), full)) return false;
  auto keep = list.begin();
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (full(*it)) {
      out.spans += it->count;
      spans -= it->count;
      out.list.push_back(std::move(*it));
    } else {
      if (keep != it) *keep = std::move(*it);
      ++keep;
    }
  }
  list.erase(keep, list.end());
  return true;
}

// Per span thread: where spans are serialized before being appended to the queue. Null once
// the thread's thread_locals are being destroyed (a span ended by another thread_local's
// destructor then uses a temporary).
struct ScratchTag;
std::string* serialize_scratch() noexcept {
  return internal::thread_slot<std::string, ScratchTag>();
}

}  // namespace

// Design: the queue is a slot vector with a reserved capacity of max_queue_size, guarded by a
// spin lock (on_end's critical section is one move-assignment, no allocation, no syscall). The
// worker swaps it with its own equally reserved vector and exports without any lock. With a
// serializing exporter the queue is Chunks instead (same lock; the critical section is one
// append of a few hundred bytes into a reused buffer), and SpanData never leaves its thread.
// Sleeping and waking use a separate mutex + condition variables, touched by span threads only
// when a batch fills up (once per batch).
struct BatchSpanProcessor::State {
  std::shared_ptr<SpanExporter> exporter;
  BatchSpanProcessorOptions options;

  std::shared_ptr<const SpanSerializer> serializer;  // set: spans are queued serialized

  internal::SpinLock queue_lock;
  Slots queue;                              // guarded by queue_lock (SpanData path)
  Chunks chunks;                            // guarded by queue_lock (serialized path)
  std::vector<SpanBytes> spare;             // exported chunks' buffers; guarded by queue_lock
  std::atomic<bool> worker_signaled{false};  // a batch-size wakeup is pending

  std::mutex mu;  // guards the fields below; order: mu, then queue_lock
  std::condition_variable wake_worker;
  std::condition_variable progress;  // flushes completed / worker exited
  bool stop = false;
  bool worker_exited = false;
  std::uint64_t flush_requested = 0;
  std::uint64_t flush_done = 0;

  std::atomic<bool> shut_down{false};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<bool> warned_full{false};
  std::atomic<std::uint64_t> exported{0};

  void run();
  void export_batch(Slots& batch);
  void export_chunks(Chunks& batch);
  void enqueue_serialized(const SpanData& span, const SpanOrigin& origin);
  std::size_t queued() {
    std::lock_guard g(queue_lock);
    return queue.count + chunks.spans;
  }
  // Capacity of a new chunk buffer, from the size of one span: a batch of such spans and a
  // quarter more, so spans somewhat larger than this one do not make it grow (and copy).
  std::size_t chunk_capacity(std::size_t span_bytes) const {
    return span_bytes * options.max_export_batch_size * 5 / 4 + 4096;
  }
  // A span dropped because the queue is full (the first one is logged).
  void count_full_drop() {
    dropped.fetch_add(1, std::memory_order_relaxed);
    if (!warned_full.load(std::memory_order_relaxed) && !warned_full.exchange(true)) {
      internal::warn("BatchSpanProcessor queue full (max_queue_size={}): dropping spans "
                     "(reported once per processor; see dropped_spans())",
                     options.max_queue_size);
    }
  }
  // Runs one export of `spans` spans (`call` returns its result) and counts them when it
  // succeeds. An exporter that throws breaks its contract: logged once, the batch is lost.
  template <class Call>
  void counted_export(std::size_t spans, Call&& call) {
    try {
      if (call() == ExportResult::kSuccess) exported.fetch_add(spans, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      internal::warn_once("bsp-export-threw", "span exporter threw (contract violation): {}",
                          e.what());
    } catch (...) {
      internal::warn_once("bsp-export-threw", "span exporter threw (contract violation)");
    }
  }
  // Wakes the worker once `queued` spans make a batch (at most one pending wakeup).
  void signal_if_batch(std::size_t queued) {
    // The plain load first: until the worker takes the queue, every span would otherwise pay
    // an atomic exchange (a full barrier).
    if (queued >= options.max_export_batch_size &&
        !worker_signaled.load(std::memory_order_relaxed) && !worker_signaled.exchange(true)) {
      // Taking mu orders this wakeup after the worker's predicate check (no lost wakeup).
      { std::lock_guard lock(mu); }
      wake_worker.notify_one();
    }
  }
};

// Chunks go out in exports of at most max_export_batch_size spans; afterwards their buffers
// are handed back (emptied, capacity kept) for span threads to fill again.
void BatchSpanProcessor::State::export_chunks(Chunks& batch) {
  const std::size_t step = std::max<std::size_t>(1, options.max_export_batch_size);
  std::vector<SerializedSpans> call;
  std::size_t in_call = 0;
  auto flush = [&] {
    if (call.empty()) return;
    counted_export(in_call, [&] { return exporter->export_serialized(call); });
    call.clear();
    in_call = 0;
  };
  for (const Chunk& c : batch.list) {
    if (in_call + c.count > step) flush();
    call.push_back(SerializedSpans{c.resource, c.scope, c.bytes.view(), c.count});
    in_call += c.count;
  }
  flush();
  std::size_t span_bytes = 0;
  for (const Chunk& c : batch.list) {
    if (c.count != 0) span_bytes = std::max(span_bytes, c.bytes.size() / c.count);
  }
  const std::size_t capacity = chunk_capacity(span_bytes);
  // Enough spare buffers to refill a full queue; more would only hold memory.
  const std::size_t keep = options.max_queue_size / step + 4;
  std::size_t spares;
  {
    std::lock_guard g(queue_lock);
    for (Chunk& c : batch.list) {
      if (spare.size() >= keep) break;
      c.bytes.clear();
      spare.push_back(std::move(c.bytes));
    }
    spares = spare.size();
  }
  batch.list.clear();
  batch.spans = 0;
  // A span thread that finds no spare buffer allocates one under the queue lock and faults its
  // pages in while filling it, stalling the other span threads; so this thread keeps two
  // spares ready, their pages touched.
  if (span_bytes == 0) return;
  for (; spares < std::min<std::size_t>(2, keep); ++spares) {
    SpanBytes buffer;
    try {
      buffer = SpanBytes(capacity);
    } catch (const std::bad_alloc&) {
      return;
    }
    buffer.touch();
    std::lock_guard g(queue_lock);
    spare.push_back(std::move(buffer));
  }
}

void BatchSpanProcessor::State::enqueue_serialized(const SpanData& span,
                                                  const SpanOrigin& origin) {
  std::string temporary;
  std::string* scratch = serialize_scratch();
  std::string_view bytes;
  try {
    bytes = serializer->serialize(span, scratch ? *scratch : temporary);
  } catch (const std::exception& e) {  // e.g. bad_alloc: on_end must not throw
    dropped.fetch_add(1, std::memory_order_relaxed);
    internal::warn_once("bsp-serialize-threw", "span serializer failed, span dropped: {}",
                        e.what());
    return;
  }
  std::size_t queued = 0;
  bool full = false;
  bool added = false;
  {
    std::lock_guard lock(queue_lock);
    full = chunks.spans >= options.max_queue_size;
    if (!full) {
      try {
        Chunk& c = chunks.open(origin, bytes.size(), options.max_export_batch_size,
                               chunk_capacity(bytes.size()), spare);
        c.bytes.append(bytes);
        ++c.count;
        queued = ++chunks.spans;
        added = true;
      } catch (const std::bad_alloc&) {
        // Dropped below. open() allocates before it adds a chunk: nothing is left.
      }
    }
  }
  if (full) {
    count_full_drop();
    return;
  }
  if (!added) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    internal::warn_once("bsp-buffer-alloc", "BatchSpanProcessor: no memory for a span buffer, "
                                            "span dropped (see dropped_spans())");
    return;
  }
  signal_if_batch(queued);
}

void BatchSpanProcessor::State::export_batch(Slots& batch) {
  const std::size_t step = std::max<std::size_t>(1, options.max_export_batch_size);
  for (std::size_t i = 0; i < batch.count; i += step) {
    std::size_t n = std::min(step, batch.count - i);
    counted_export(n, [&] {
      return exporter->export_spans(std::span<const SpanData>(batch.spans.data() + i, n));
    });
  }
  batch.count = 0;  // slots stay filled; on_end hands them back to span threads
}

void BatchSpanProcessor::State::run() {
  pthread_setname_np(pthread_self(), "kiq-span-export");  // as `top -H` and perf show it
  Slots batch;
  Chunks chunk_batch;
  if (!serializer) batch.spans.reserve(options.max_queue_size);
  auto next_export = util::deadline_after(options.schedule_delay);
  std::unique_lock lock(mu);
  while (true) {
    wake_worker.wait_until(lock, next_export, [&] {
      return stop || worker_signaled.load() || flush_requested > flush_done;
    });
    const std::uint64_t flush_target = flush_requested;
    const bool stopping = stop;
    lock.unlock();

    // Woken because a batch filled up (not by the timer, a flush or shutdown): only full
    // chunks go, the others keep filling, so requests carry whole batches (bench/tracing:
    // ~510 spans per request instead of ~320 when every round took everything).
    const bool full_only = !stopping && flush_target == flush_done &&
                           std::chrono::steady_clock::now() < next_export;
    bool everything = true;  // the whole queue is taken
    {
      std::lock_guard g(queue_lock);
      std::swap(batch, queue);
      if (full_only && chunks.take_full(chunk_batch, options.max_export_batch_size)) {
        everything = false;
      } else {
        std::swap(chunk_batch, chunks);
      }
      worker_signaled.store(false);
    }
    export_batch(batch);
    export_chunks(chunk_batch);
    if (flush_target > flush_done) exporter->force_flush(options.export_timeout);
    // After a full-batches-only round the timer keeps running: partial chunks (say of a scope
    // that ends few spans) still go out within schedule_delay while full batches keep coming.
    if (everything) next_export = util::deadline_after(options.schedule_delay);

    lock.lock();
    flush_done = flush_target;
    progress.notify_all();
    if (stopping && queued() == 0) break;
  }
  lock.unlock();
  // Stale exported spans are released here, once, on shutdown.
  {
    Slots stale;
    Chunks stale_chunks;
    std::vector<SpanBytes> stale_buffers;
    std::lock_guard g(queue_lock);
    std::swap(stale, queue);
    std::swap(stale_chunks, chunks);
    std::swap(stale_buffers, spare);
  }
  batch = Slots();
  lock.lock();
  worker_exited = true;
  progress.notify_all();
}

BatchSpanProcessor::BatchSpanProcessor(std::shared_ptr<SpanExporter> exporter,
                                       BatchSpanProcessorOptions options)
    : state_(std::make_shared<State>()) {
  if (options.max_queue_size == 0) options.max_queue_size = 1;
  // Slots are reserved up front, so an absurd size (e.g. from the environment) must not turn
  // into a huge allocation or an exception thrown at the user.
  constexpr std::size_t kMaxQueue = std::size_t{1} << 18;
  if (options.max_queue_size > kMaxQueue) {
    internal::warn("BatchSpanProcessor: max_queue_size {} too large, using {}",
                   options.max_queue_size, kMaxQueue);
    options.max_queue_size = kMaxQueue;
  }
  // A zero delay would make the worker spin; 1 ms keeps "export as soon as possible" cheap.
  options.schedule_delay = std::max(options.schedule_delay, std::chrono::milliseconds(1));
  options.max_export_batch_size =
      std::clamp<std::size_t>(options.max_export_batch_size, 1, options.max_queue_size);
  state_->exporter = std::move(exporter);
  state_->options = options;
  if (state_->exporter) state_->serializer = state_->exporter->serializer();
  if (!state_->serializer) state_->queue.spans.reserve(options.max_queue_size);
  if (!state_->exporter) {
    internal::warn("BatchSpanProcessor created without an exporter; spans are discarded");
    state_->shut_down = true;
    return;
  }
  // The worker owns a reference to the state so a timed-out shutdown can detach it safely.
  try {
    std::thread([s = state_] { s->run(); }).swap(worker_);
  } catch (const std::system_error& e) {
    internal::error("BatchSpanProcessor: cannot start its thread ({}); spans are discarded",
                    e.what());
    state_->shut_down = true;
    state_->worker_exited = true;
  }
}

BatchSpanProcessor::~BatchSpanProcessor() {
  shutdown();
  if (worker_.joinable()) worker_.join();
}

void BatchSpanProcessor::on_end(SpanData&& span) {
  // Direct callers hand a complete span; keep its own resource/scope.
  const auto resource = span.resource;
  const auto scope = span.scope;
  on_end_from(std::move(span), SpanOrigin{resource, scope});
}

void BatchSpanProcessor::on_end_from(SpanData&& span, const SpanOrigin& origin) {
  if (!span.context.sampled()) return;
  State& s = *state_;
  if (s.shut_down.load(std::memory_order_relaxed)) return;
  if (s.serializer) {
    s.enqueue_serialized(span, origin);  // `span` keeps its contents (and buffers)
    return;
  }
  std::size_t queued;
  bool added = false;
  {
    std::lock_guard lock(s.queue_lock);
    queued = s.queue.count;
    if (queued < s.options.max_queue_size) {
      s.queue.add(span, origin);
      queued = s.queue.count;
      added = true;
    }
  }
  if (!added) s.count_full_drop();
  s.signal_if_batch(queued);
}

bool BatchSpanProcessor::force_flush(std::chrono::milliseconds timeout) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (s.worker_exited || !s.exporter) return s.queued() == 0;
  const std::uint64_t ticket = ++s.flush_requested;
  s.wake_worker.notify_one();
  return util::wait_at_most(s.progress, lock, timeout,
                            [&] { return s.flush_done >= ticket || s.worker_exited; });
}

namespace {
// How long a timed-out shutdown waits for an export to give up once its exporter is shut down.
constexpr std::chrono::milliseconds kAbortGrace{1000};
}  // namespace

bool BatchSpanProcessor::shutdown(std::chrono::milliseconds timeout) {
  State& s = *state_;
  if (s.shut_down.exchange(true)) return true;
  auto deadline = util::deadline_after(timeout);
  bool exited;
  {
    std::unique_lock lock(s.mu);
    s.stop = true;
    s.wake_worker.notify_one();
    exited = s.progress.wait_until(lock, deadline, [&] { return s.worker_exited; });
  }
  if (exited) {
    if (worker_.joinable()) worker_.join();
    return !s.exporter || s.exporter->shutdown(util::time_left(deadline));
  }
  // Out of time, the worker is still exporting (say, retrying a collector that is down): shut
  // the exporter down, which makes it give up (its contract: exports fail after shutdown), and
  // let the worker finish. Only an exporter that ignores that is left running in the background.
  if (s.exporter) s.exporter->shutdown(kAbortGrace);
  {
    std::unique_lock lock(s.mu);
    exited = s.progress.wait_for(lock, kAbortGrace, [&] { return s.worker_exited; });
  }
  if (exited) {
    if (worker_.joinable()) worker_.join();
    internal::warn("BatchSpanProcessor shutdown timed out; the export in flight was abandoned");
  } else {
    internal::warn("BatchSpanProcessor shutdown timed out; exporting continues in background");
    if (worker_.joinable()) worker_.detach();
  }
  return false;
}

std::uint64_t BatchSpanProcessor::dropped_spans() const { return state_->dropped.load(); }
std::uint64_t BatchSpanProcessor::exported_spans() const { return state_->exported.load(); }
const BatchSpanProcessorOptions& BatchSpanProcessor::options() const { return state_->options; }

}  // namespace kiq::otel::sdk
