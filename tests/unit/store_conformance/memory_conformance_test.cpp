// The Store conformance suite against the embedded MemoryStore.
#include "store_conformance/store_conformance.hpp"

#include "kiq/store/memory.hpp"

namespace kiq::conformance {

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         ::testing::Values(StoreFactory{"memory", [] {
                           return std::make_shared<MemoryStore>();
                         }}),
                         [](const auto& info) { return info.param.name; });

}  // namespace kiq::conformance
