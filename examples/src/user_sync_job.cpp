// UserSyncJob (queue sync): sync a batch of users with the external API; a failing user is
// recorded on its own span and the batch continues.
#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/instrumentation/batch.hpp"

namespace kiq::examples::detail {

void user_sync(FakeWorld& w, JobContext&, const Json& args) {
  const Json& ids = arg(kUserSyncJob, args, 0, "user_ids");
  if (!ids.is_array()) throw std::invalid_argument("UserSyncJob: argument 0 (user_ids) must be an array");
  auto tracer = app_tracer();

  tracing::BatchOptions options;
  options.success_attribute = "sync.success";
  tracing::BatchSpan batch(*tracer, "batch.user_sync", ids.size(), options);
  for (const auto& id : ids) {
    otel::Attributes attrs;
    if (id.is_number_integer()) attrs.push_back({"user.id", id.get<std::int64_t>()});
    batch.item("user.sync", std::move(attrs), [&](otel::Span&) {
      if (!id.is_number_integer()) throw std::invalid_argument("user id must be an integer: " + id.dump());
      w.sync_api.sync_user(w.users.find(id.get<std::int64_t>()));
    });
  }
  batch.finish();
}

}  // namespace kiq::examples::detail
