// IdGenerator: where new trace and span ids come from. The default (a null generator in the
// provider options) is the fast thread-local PRNG behind TraceId::random()/SpanId::random().
//
// Thread-safety: implementations must be thread-safe.
#pragma once

#include "kiq/otel/ids.hpp"

namespace kiq::otel::sdk {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual TraceId new_trace_id() = 0;  // must be valid
  virtual SpanId new_span_id() = 0;    // must be valid
};

}  // namespace kiq::otel::sdk
