// ReportGeneratorJob (queue reports): fetch the organization's data, fan out one
// ReportSectionJob per section (they join this trace through the job hash), then enqueue the
// combine step.
#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/client.hpp"
#include "kiq/store.hpp"

namespace kiq::examples::detail {
namespace {

const std::vector<std::string> kSections = {"sales", "inventory", "customers"};

Json to_json(const std::vector<Transaction>& rows) {
  Json out = Json::array();
  for (const auto& t : rows)
    out.push_back({{"product_id", t.product_id}, {"customer_id", t.customer_id}, {"amount", t.amount}});
  return out;
}

}  // namespace

void report_generator(FakeWorld& w, JobContext& ctx, const Json& args) {
  const std::int64_t org_id = int_arg(kReportGeneratorJob, args, 0, "organization_id");
  const Json& range = arg(kReportGeneratorJob, args, 1, "date_range");
  const std::string date_range = range.is_string() ? range.get<std::string>() : range.dump();
  auto tracer = app_tracer();

  tracer->in_span(
      "report.generate",
      with_attributes({{"organization.id", org_id}, {"report.date_range", date_range}}),
      [&](otel::Span& span) {
        Organization org = w.organizations.find(org_id);
        span.set_attribute("organization.name", org.name);

        Json data = tracer->in_span("report.fetch_data", [&] { return to_json(org.transactions); });
        span.set_attribute("report.data_rows", static_cast<std::int64_t>(data.size()));

        for (const auto& section : kSections)
          ctx.client().perform_async(kReportSectionJob, Json::array({org_id, section, data}));

        tracer->in_span("report.combine_sections", [&](otel::Span& combine) {
          // The tutorial sleeps and polls here; kiq hands the wait to a job instead of holding
          // a worker: CombineReportSectionsJob reads whatever sections are stored.
          std::int64_t ready = 0;
          for (const auto& section : kSections)
            if (ctx.kv().get(fmt::format("report:{}:{}", org_id, section))) ++ready;
          combine.set_attribute("report.sections_ready", ready);
          ctx.client().perform_async(kCombineReportSectionsJob, Json::array({org_id, kSections}));
        });
      });
}

void combine_report_sections(FakeWorld&, JobContext& ctx, const Json& args) {
  const std::int64_t org_id = int_arg(kCombineReportSectionsJob, args, 0, "organization_id");
  const Json& sections = arg(kCombineReportSectionsJob, args, 1, "sections");
  if (!sections.is_array())
    throw std::invalid_argument("CombineReportSectionsJob: argument 1 (sections) must be an array");
  app_tracer()->in_span("report.combine", with_attributes({{"organization.id", org_id}}),
                        [&](otel::Span& span) {
                          std::int64_t found = 0;
                          for (const auto& s : sections)
                            if (s.is_string() && ctx.kv().get(fmt::format("report:{}:{}", org_id, s.get<std::string>())))
                              ++found;
                          span.set_attribute("report.sections_found", found);
                          span.set_attribute("report.sections_missing",
                                             static_cast<std::int64_t>(sections.size()) - found);
                        });
}

}  // namespace kiq::examples::detail
