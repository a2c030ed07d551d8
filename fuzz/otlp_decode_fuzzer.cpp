// Fuzzes the OTLP receiver-side decoders and, on success, the encoders with what came out.
// Input: first byte even -> protobuf body, odd -> OTLP/JSON body; the rest is the body.
// Invariants: nothing crashes or throws; whatever decodes re-encodes to protobuf that decodes
// again to the same number of spans, and the direct wire encoder gives the generated classes'
// bytes exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kiq/otel/sdk/exporters/otlp_receive.hpp"
#include "otel/otlp/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto spans = (data[0] % 2 == 0) ? kiq::otel::sdk::decode_otlp_protobuf(body)
                                  : kiq::otel::sdk::decode_otlp_json(body);
  if (!spans) return 0;
  std::string proto = kiq::otel::otlp::encode_protobuf(*spans);
  if (proto != kiq::otel::otlp::encode_protobuf_generated(*spans)) std::abort();
  (void)kiq::otel::otlp::encode_json(*spans);
  auto again = kiq::otel::sdk::decode_otlp_protobuf(proto);
  if (!again || again->size() != spans->size()) std::abort();
  return 0;
}
