// NoDestructor<T>: a T built in place and never destroyed.
//
// For the process-wide objects of the API (the global provider and propagator, the no-op
// tracer and provider): a library cannot know the order of its users' static and thread_local
// destructors at exit, and any of them may still start spans or set the globals. A static
// NoDestructor<T> has no destructor to register, so it is usable until the process is gone;
// what it holds is released only if someone resets it (see the global provider's exit hook).
//
// Thread-safety: as T's.
#pragma once

#include <new>
#include <utility>

namespace kiq::otel::internal {

template <class T>
class NoDestructor {
 public:
  template <class... Args>
  explicit NoDestructor(Args&&... args) {
    ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
  }
  NoDestructor(const NoDestructor&) = delete;
  NoDestructor& operator=(const NoDestructor&) = delete;

  T& operator*() noexcept { return *get(); }
  T* operator->() noexcept { return get(); }
  T* get() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }

 private:
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace kiq::otel::internal
