// open_store(url): the one place that maps a URL to a Store implementation.
#include <stdexcept>
#include <string>

#include "kiq/store.hpp"
#include "kiq/store/redis.hpp"

#if __has_include("kiq/store/memory.hpp") && defined(KIQ_HAVE_MEMORY_STORE)
#include "kiq/store/memory.hpp"
#endif

namespace kiq {

std::shared_ptr<Store> open_store(std::string_view url) {
  if (url.empty() || url == "memory://" || url == "memory:") {
#if defined(KIQ_HAVE_MEMORY_STORE)
    return std::make_shared<MemoryStore>();
#else
    throw std::invalid_argument("open_store: the memory store is not built into this binary");
#endif
  }
  if (url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://") ||
      url.starts_with("redis+unix://")) {
    return make_redis_store(url);
  }
  throw std::invalid_argument("invalid store URL '" + std::string(url) +
                              "': expected redis://host[:port][/db], unix:///path.sock or memory://");
}

}  // namespace kiq
