// thread_slot<T, Tag>(): a thread_local T that knows when it is gone.
//
// A thread's thread_local objects are destroyed when it exits (the main thread's at exit(),
// before static objects), yet code can still run on that thread afterwards: a static object's
// destructor ending a span or restoring the global tracer provider, a later thread_local's
// destructor. From the moment the slot's destructor starts, thread_slot() returns nullptr, so
// such callers take a fallback instead of touching a destroyed object (and the slot is never
// built again on that thread).
//
// One slot per (T, Tag) per thread; T must be default-constructible.
// Thread-safety: each thread has its own slot.
#pragma once

namespace kiq::otel::internal {

template <class T, class Tag>
T* thread_slot() noexcept {
  static thread_local bool gone = false;  // trivially destructible: readable to the very end
  struct Holder {
    T value{};
    ~Holder() { gone = true; }
  };
  if (gone) return nullptr;
  static thread_local Holder holder;
  return &holder.value;
}

}  // namespace kiq::otel::internal
