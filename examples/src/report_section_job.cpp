// ReportSectionJob (queue reports): one section of a report, stored for the combine step under
// report:<organization_id>:<section> for an hour (the tutorial's SETEX 3600).
#include <map>
#include <set>

#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/store.hpp"

namespace kiq::examples::detail {
namespace {

double amount_of(const Json& row) {
  auto it = row.find("amount");
  return it != row.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string key_of(const Json& row, const char* key) {
  auto it = row.find(key);
  return it == row.end() ? "?" : it->dump();
}

// sales: revenue per product; inventory: units per product; customers: spend per customer.
Json process_section(const std::string& section, const Json& data) {
  std::map<std::string, double> totals;
  for (const auto& row : data) {
    if (!row.is_object()) continue;
    if (section == "sales") totals[key_of(row, "product_id")] += amount_of(row);
    else if (section == "inventory") totals[key_of(row, "product_id")] += 1;
    else if (section == "customers") totals[key_of(row, "customer_id")] += amount_of(row);
    else throw std::invalid_argument("ReportSectionJob: unknown section '" + section + "'");
  }
  Json out = Json::object();
  for (const auto& [k, v] : totals) out[k] = v;
  return out;
}

}  // namespace

void report_section(FakeWorld&, JobContext& ctx, const Json& args) {
  const std::int64_t org_id = int_arg(kReportSectionJob, args, 0, "organization_id");
  const std::string section = string_arg(kReportSectionJob, args, 1, "section");
  const Json& data = arg(kReportSectionJob, args, 2, "data");
  if (!data.is_array()) throw std::invalid_argument("ReportSectionJob: argument 2 (data) must be an array");

  app_tracer()->in_span(
      "report.process_section." + section,
      with_attributes({{"organization.id", org_id}, {"report.section", section}}),
      [&](otel::Span& span) {
        Json result = process_section(section, data);
        span.set_attribute("section.items", static_cast<std::int64_t>(result.size()));
        ctx.kv().set(fmt::format("report:{}:{}", org_id, section), result.dump(),
                     std::chrono::seconds(kSectionTtlSeconds));
      });
}

}  // namespace kiq::examples::detail
