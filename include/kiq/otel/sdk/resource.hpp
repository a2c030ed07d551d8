// Resource (who produces telemetry) and InstrumentationScope (which library made a span).
//
// Thread-safety: immutable value types; shared between spans by shared_ptr<const>.
#pragma once

#include <string>

#include "kiq/otel/attributes.hpp"

namespace kiq::otel::sdk {

class Resource {
 public:
  Resource() = default;
  explicit Resource(Attributes attributes, std::string schema_url = {});

  // service.name from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, else
  // unknown_service:<executable>; telemetry.sdk.{name,language,version}.
  static Resource default_resource();
  // Attributes from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME only (empty when unset).
  static Resource from_environment();

  // Attributes of `other` win on key conflict.
  Resource merge(const Resource& other) const;

  const Attributes& attributes() const { return attributes_; }
  const std::string& schema_url() const { return schema_url_; }
  const AttributeValue* find(std::string_view key) const;

 private:
  Attributes attributes_;
  std::string schema_url_;
};

struct InstrumentationScope {
  std::string name;
  std::string version;
  std::string schema_url;
  Attributes attributes;
};

}  // namespace kiq::otel::sdk
