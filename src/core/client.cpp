// Client: Sidekiq's normalize_item + client middleware + raw_push, over the Store interface.
#include "kiq/client.hpp"

#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "core/job_text.hpp"

namespace kiq {

namespace {

// Sidekiq's sidekiq_options as they appear in the hash (only keys that differ from "absent").
Json options_json(const JobOptions& o) {
  Json j = Json::object();
  j["retry"] = o.retry.to_json();
  j["queue"] = o.queue.empty() ? std::string("default") : o.queue;
  if (o.backtrace.enabled()) j["backtrace"] = o.backtrace.to_json();
  if (!o.dead) j["dead"] = false;
  if (o.retry_queue) j["retry_queue"] = *o.retry_queue;
  if (!o.tags.empty()) j["tags"] = o.tags;
  return j;
}

void validate(const Json& item) {
  if (!item.is_object()) throw std::invalid_argument("kiq: job must be a JSON object");
  auto cls = item.find("class");
  if (cls == item.end() || !cls->is_string() || cls->get_ref<const std::string&>().empty())
    throw std::invalid_argument("kiq: job needs a non-empty string \"class\"");
  auto args = item.find("args");
  if (args == item.end() || !args->is_array())
    throw std::invalid_argument(fmt::format("kiq: job {} needs \"args\" as an array",
                                            cls->get<std::string>()));
  if (auto at = item.find("at");
      at != item.end() && !(at->is_number() && std::isfinite(at->get<double>())))
    throw std::invalid_argument("kiq: job \"at\" must be a finite number (epoch seconds)");
  if (auto tags = item.find("tags"); tags != item.end() && !tags->is_array())
    throw std::invalid_argument("kiq: job \"tags\" must be an array");
  if (auto q = item.find("queue"); q != item.end() &&
      (!q->is_string() || q->get_ref<const std::string&>().empty()))
    throw std::invalid_argument("kiq: job \"queue\" must be a non-empty string");
  if (auto jid = item.find("jid"); jid != item.end() && !jid->is_string())
    throw std::invalid_argument("kiq: job \"jid\" must be a string");
}

std::string serialize(const Json& job) {
  try {
    return job.dump();
  } catch (const Json::exception& e) {
    throw std::invalid_argument(fmt::format("kiq: job cannot be serialized: {}", e.what()));
  }
}

// Calls chain[i] ... then `last`; returns false if any middleware stopped the push.
bool invoke_chain(const ClientChain& chain, ClientCall& call, std::size_t i,
                  const std::function<bool()>& last) {
  const auto& entries = chain.entries();
  if (i == entries.size()) return last();
  return entries[i]->call(call, [&] { return invoke_chain(chain, call, i + 1, last); });
}

// Immediate jobs without client middleware: batches are built on demand while the store sends
// the previous one (Store::push_batches); the job text comes from a per-batch template (see
// core/job_text.hpp). `args_at(i)` is the i-th job's args, i < count.
template <class ArgsAt>
void push_streamed(Store& store, std::string_view job_class, const JobOptions& options,
                   std::size_t count, const ArgsAt& args_at, std::size_t batch_size,
                   std::vector<std::string>& jids) {
  if (count == 0) return;
  const Json proto = Json{{"class", std::string(job_class)}, {"args", Json::array()}};
  const std::string queue = normalize_item(proto, &options, 0)["queue"].get<std::string>();
  std::size_t next = 0;
  store.push_batches(queue, [&](std::vector<std::string>& batch) {
    if (next >= count) return false;
    const std::size_t end = std::min(count, next + batch_size);
    // One clock reading per batch, like Sidekiq's raw_push (one enqueued_at per pipeline).
    const double now = epoch_now();
    Json base = normalize_item(proto, &options, now);
    base.erase("args");
    base.erase("jid");
    base["enqueued_at"] = now;
    const JobTextTemplate text(base);
    batch.resize(end - next);  // the strings of a batch Redis already stored are reused
    for (std::string& payload : batch) {
      std::string jid = new_jid();
      text.render_into(payload, args_at(next++), jid);
      jids.push_back(std::move(jid));
    }
    return true;
  });
}

}  // namespace

std::optional<double> resolve_at(double at, double now) {
  if (!std::isfinite(at))
    throw std::invalid_argument(
        "kiq: job \"at\" must be a finite number (epoch or relative seconds)");
  double ts = at < 1e9 ? now + at : at;
  if (ts <= now) return std::nullopt;
  return ts;
}

Json normalize_item(Json item, const JobOptions* type_options, double now) {
  validate(item);
  Json job = type_options ? options_json(*type_options) : Json{{"retry", true}, {"queue", "default"}};
  for (auto& [key, value] : item.items()) job[key] = std::move(value);
  if (!job.contains("jid")) job["jid"] = new_jid();
  if (!job.contains("created_at") || !job["created_at"].is_number()) job["created_at"] = now;
  return job;
}

Client::Client(std::shared_ptr<Store> store, ClientChain middleware, const JobRegistry* registry)
    : store_(std::move(store)), middleware_(std::move(middleware)), registry_(registry) {
  if (!store_) throw std::invalid_argument("kiq: Client needs a store");
}

std::optional<std::string> Client::perform_async(std::string_view job_class, Json args) {
  return push_with(job_class, {}, std::move(args));
}

std::optional<std::string> Client::perform_in(double seconds, std::string_view job_class, Json args) {
  PushOptions o;
  o.in = seconds;
  return push_with(job_class, o, std::move(args));
}

std::optional<std::string> Client::perform_at(double epoch, std::string_view job_class, Json args) {
  PushOptions o;
  o.at = epoch;
  return push_with(job_class, o, std::move(args));
}

std::optional<std::string> Client::Configured::perform_async(std::string_view job_class, Json args) {
  return client_->push_with(job_class, options_, std::move(args));
}

std::optional<std::string> Client::Configured::perform_in(double seconds, std::string_view job_class,
                                                          Json args) {
  PushOptions o = options_;
  o.in = seconds;
  o.at.reset();
  return client_->push_with(job_class, o, std::move(args));
}

std::optional<std::string> Client::Configured::perform_at(double epoch, std::string_view job_class,
                                                          Json args) {
  PushOptions o = options_;
  o.at = epoch;
  o.in.reset();
  return client_->push_with(job_class, o, std::move(args));
}

std::optional<std::string> Client::push_with(std::string_view job_class,
                                             const PushOptions& overrides, Json args) {
  const JobType* type = registry_ ? registry_->find(job_class) : nullptr;
  return push_typed(job_class, type ? type->options : JobOptions{}, overrides, std::move(args));
}

std::optional<std::string> Client::push_typed(std::string_view job_class, const JobOptions& options,
                                              const PushOptions& overrides, Json args) {
  if (args.is_null()) args = Json::array();
  if (!args.is_array()) args = Json::array({std::move(args)});  // a single argument
  double now = epoch_now();
  Json item = overrides.extra.is_object() ? overrides.extra : Json::object();
  item["class"] = std::string(job_class);
  item["args"] = std::move(args);
  if (overrides.queue) item["queue"] = *overrides.queue;
  if (overrides.retry) item["retry"] = overrides.retry->to_json();
  std::optional<double> at;
  if (overrides.in) at = resolve_at(*overrides.in, now);
  if (overrides.at) at = resolve_at(*overrides.at, now);
  if (at) item["at"] = *at;
  return push_normalized(normalize_item(std::move(item), &options, now), PushOrigin::kClient);
}

std::optional<std::string> Client::push(Json item, PushOrigin origin) {
  validate(item);
  const JobType* type = registry_ ? registry_->find(item["class"].get<std::string>()) : nullptr;
  return push_normalized(normalize_item(std::move(item), type ? &type->options : nullptr, epoch_now()),
                         origin);
}

std::optional<std::string> Client::push_normalized(Json job, PushOrigin origin) {
  ClientCall call{job, job["queue"].get<std::string>(), origin};
  bool pushed = invoke_chain(middleware_, call, 0, [&] {
    validate(job);  // middleware may have changed it
    if (auto at = job.find("at"); at != job.end()) {
      double ts = at->get<double>();
      job.erase("at");
      job.erase("enqueued_at");
      if (origin == PushOrigin::kClient && !job.contains("scheduled_at")) job["scheduled_at"] = ts;
      ScoredPayload entry{ts, serialize(job)};
      store_->schedule(std::span<const ScoredPayload>(&entry, 1));
    } else {
      job["enqueued_at"] = epoch_now();
      std::string payload = serialize(job);
      store_->push(job["queue"].get<std::string>(), std::span<const std::string>(&payload, 1));
    }
    return true;
  });
  if (!pushed) return std::nullopt;
  return job["jid"].get<std::string>();
}

std::vector<std::string> Client::push_bulk(std::string_view job_class, const std::vector<Json>& args,
                                           std::optional<double> at, std::size_t batch_size) {
  if (batch_size == 0) batch_size = kDefaultBatchSize;
  // All or nothing, as Sidekiq: a bad element stops the push before any chunk is written.
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_array())
      throw std::invalid_argument(fmt::format("kiq: push_bulk args[{}] must be an array", i));
  }
  const JobType* type = registry_ ? registry_->find(job_class) : nullptr;
  JobOptions defaults;
  const JobOptions& options = type ? type->options : defaults;
  std::vector<std::string> jids;
  jids.reserve(args.size());
  if (!at && middleware_.empty()) {
    push_streamed(*store_, job_class, options, args.size(),
                  [&](std::size_t i) -> const Json& { return args[i]; }, batch_size, jids);
    return jids;
  }
  for (std::size_t start = 0; start < args.size(); start += batch_size) {
    std::span<const Json> chunk(args.data() + start, std::min(args.size() - start, batch_size));
    // One clock reading per chunk, like Sidekiq's raw_push (one enqueued_at per pipeline).
    double now = epoch_now();
    std::optional<double> run_at = at ? resolve_at(*at, now) : std::nullopt;
    // Normalized once per chunk; each job differs only in its args and jid.
    Json base = normalize_item(Json{{"class", std::string(job_class)}, {"args", Json::array()}},
                               &options, now);
    if (middleware_.empty()) {
      push_chunk_text(std::move(base), chunk, run_at, now, jids);
    } else {
      push_chunk_through_middleware(base, chunk, run_at, now, jids);
    }
  }
  return jids;
}

std::vector<std::string> Client::push_bulk_copies(std::string_view job_class, const Json& args,
                                                  std::size_t count, std::optional<double> at,
                                                  std::size_t batch_size) {
  if (!args.is_array()) throw std::invalid_argument("kiq: push_bulk_copies args must be an array");
  if (at || !middleware_.empty()) {
    return push_bulk(job_class, std::vector<Json>(count, args), at, batch_size);
  }
  if (batch_size == 0) batch_size = kDefaultBatchSize;
  const JobType* type = registry_ ? registry_->find(job_class) : nullptr;
  const JobOptions defaults;
  std::vector<std::string> jids;
  jids.reserve(count);
  push_streamed(*store_, job_class, type ? type->options : defaults, count,
                [&](std::size_t) -> const Json& { return args; }, batch_size, jids);
  return jids;
}

// Without client middleware nobody needs a job as a Json object: the hash text is spliced
// from a per-chunk template (the same bytes Json::dump would write; see core/job_text.hpp).
void Client::push_chunk_text(Json base, std::span<const Json> chunk, std::optional<double> run_at,
                             double now, std::vector<std::string>& jids) {
  base.erase("args");
  base.erase("jid");
  if (run_at) {
    base.erase("enqueued_at");
    base["scheduled_at"] = *run_at;
  } else {
    base["enqueued_at"] = now;
  }
  const JobTextTemplate text(base);
  if (run_at) {
    std::vector<ScoredPayload> scheduled;
    scheduled.reserve(chunk.size());
    for (const Json& job_args : chunk) {
      std::string jid = new_jid();
      scheduled.push_back({*run_at, text.render(job_args, jid)});
      jids.push_back(std::move(jid));
    }
    store_->schedule(scheduled);
    return;
  }
  std::vector<std::string> payloads;
  payloads.reserve(chunk.size());
  for (const Json& job_args : chunk) {
    std::string jid = new_jid();
    payloads.push_back(text.render(job_args, jid));
    jids.push_back(std::move(jid));
  }
  store_->push(base["queue"].get_ref<const std::string&>(), payloads);
}

void Client::push_chunk_through_middleware(const Json& base, std::span<const Json> chunk,
                                           std::optional<double> run_at, double now,
                                           std::vector<std::string>& jids) {
  std::map<std::string, std::vector<std::string>> by_queue;  // middleware may change the queue
  std::vector<ScoredPayload> scheduled;
  for (const Json& job_args : chunk) {
    Json job = base;
    job["args"] = job_args;
    job["jid"] = new_jid();
    ClientCall call{job, job["queue"].get<std::string>(), PushOrigin::kClient};
    bool pushed = invoke_chain(middleware_, call, 0, [&] {
      validate(job);
      if (run_at) {
        job.erase("enqueued_at");
        job["scheduled_at"] = *run_at;
        scheduled.push_back({*run_at, serialize(job)});
      } else {
        job["enqueued_at"] = now;
        by_queue[job["queue"].get<std::string>()].push_back(serialize(job));
      }
      return true;
    });
    if (pushed) jids.push_back(job["jid"].get<std::string>());
  }
  for (const auto& [queue, payloads] : by_queue) store_->push(queue, payloads);
  if (!scheduled.empty()) store_->schedule(scheduled);
}

}  // namespace kiq
