#pragma once

namespace kiq::otel {

// Values match OTLP's Span.SpanKind numbering.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

// Values match OTLP's Status.StatusCode numbering.
enum class StatusCode { kUnset = 0, kOk = 1, kError = 2 };

}  // namespace kiq::otel
