// In-memory fakes for the example jobs (see fake_world.hpp).
#include "kiq/examples/fake_world.hpp"

#include <fmt/format.h>

namespace kiq::examples {
namespace {

template <class Map>
auto find_or_throw(const Map& map, std::int64_t id, const char* what) {
  auto it = map.find(id);
  if (it == map.end()) throw RecordNotFound(fmt::format("{} not found", what));
  return it->second;
}

}  // namespace

void Users::add(User user) {
  std::lock_guard lock(mu_);
  users_[user.id] = std::move(user);
}

User Users::find(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return find_or_throw(users_, id, "User");
}

Notification build_notification(const User& user, const std::string& type) {
  Notification n;
  if (type == "welcome") {
    n.subject = fmt::format("Welcome, {}!", user.name);
    n.channels = {"email", "push"};
  } else if (type == "password_reset") {
    n.subject = "Reset your password";
    n.channels = {"email", "sms"};
  } else if (type == "payment_failed") {
    n.subject = "Your payment failed";
    n.channels = {"email", "sms", "push"};
  } else {
    n.subject = fmt::format("Notification: {}", type);
    n.channels = {"email"};
  }
  n.body = fmt::format("{} ({})", n.subject, user.locale);
  return n;
}

void Outbox::send(const std::string& channel, const std::string& to, const std::string& text) {
  std::lock_guard lock(mu_);
  sent_.push_back(fmt::format("{}:{}:{}", channel, to, text));
}

std::vector<std::string> Outbox::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

void Organizations::add(Organization org) {
  std::lock_guard lock(mu_);
  orgs_[org.id] = std::move(org);
}

Organization Organizations::find(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return find_or_throw(orgs_, id, "Organization");
}

void Orders::add(Order order) {
  std::lock_guard lock(mu_);
  orders_[order.id] = std::move(order);
}

Order Orders::find(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return find_or_throw(orders_, id, "Order");
}

void Orders::update(const Order& order) {
  std::lock_guard lock(mu_);
  auto it = orders_.find(order.id);
  if (it == orders_.end()) throw RecordNotFound("Order not found");
  it->second = order;
}

void PaymentMethods::add(PaymentMethod method) {
  std::lock_guard lock(mu_);
  methods_[method.id] = std::move(method);
}

PaymentMethod PaymentMethods::find(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return find_or_throw(methods_, id, "PaymentMethod");
}

void PaymentGateway::script(std::int64_t payment_method_id, std::vector<Outcome> outcomes) {
  std::lock_guard lock(mu_);
  auto& q = scripted_[payment_method_id];
  q.insert(q.end(), outcomes.begin(), outcomes.end());
}

PaymentGateway::Charge PaymentGateway::charge(const PaymentMethod& method, double amount) {
  Outcome outcome = Outcome::kOk;
  int attempt = 0;
  {
    std::lock_guard lock(mu_);
    attempt = ++attempts_;
    auto it = scripted_.find(method.id);
    if (it != scripted_.end() && !it->second.empty()) {
      outcome = it->second.front();
      it->second.pop_front();
    }
  }
  switch (outcome) {
    case Outcome::kTemporary: throw TemporaryPaymentError("Gateway timeout, try again later");
    case Outcome::kPermanent: throw PermanentPaymentError("Card declined: insufficient funds");
    case Outcome::kUnexpected: throw std::logic_error("Gateway returned an unreadable response");
    case Outcome::kOk: break;
  }
  return Charge{fmt::format("txn_{}_{}_{:.0f}", method.id, attempt, amount * 100)};
}

int PaymentGateway::charges() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

void Schedules::add(ReportSchedule schedule) {
  std::lock_guard lock(mu_);
  schedules_[schedule.id] = std::move(schedule);
}

ReportSchedule Schedules::find(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return find_or_throw(schedules_, id, "ReportSchedule");
}

ReportSchedule Schedules::calculate_next_run(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(id);
  if (it == schedules_.end()) throw RecordNotFound("ReportSchedule not found");
  auto& s = it->second;
  double period = s.frequency == "hourly" ? 3600 : s.frequency == "weekly" ? 7 * 86400 : 86400;
  s.scheduled_for = s.next_run_at;
  s.next_run_at += period;
  return s;
}

void SyncApi::fail_for(std::set<std::int64_t> user_ids) {
  std::lock_guard lock(mu_);
  failing_ = std::move(user_ids);
}

void SyncApi::sync_user(const User& user) {
  std::lock_guard lock(mu_);
  if (failing_.count(user.id))
    throw std::runtime_error(fmt::format("External API rejected user {}: rate limited", user.id));
  synced_.push_back(user.id);
}

std::vector<std::int64_t> SyncApi::synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

std::shared_ptr<FakeWorld> FakeWorld::seeded(double now_epoch) {
  auto w = std::make_shared<FakeWorld>();
  static constexpr const char* kNames[] = {"Ada", "Grace", "Linus", "Barbara", "Ken"};
  static constexpr const char* kLocales[] = {"en", "fr", "de", "es", "ja"};
  for (std::int64_t id = 1; id <= 20; ++id) {
    std::string name = fmt::format("{} {}", kNames[id % 5], id);
    w->users.add({id, name, fmt::format("user{}@example.com", id), kLocales[id % 5],
                  fmt::format("+1555000{:04}", id)});
  }
  for (std::int64_t org = 1; org <= 2; ++org) {
    Organization o{org, org == 1 ? "Acme Corp" : "Globex", {}};
    for (int i = 0; i < 12; ++i)
      o.transactions.push_back({100 + i % 4, 1 + i % 5, 10.0 * (i + 1) * static_cast<double>(org)});
    w->organizations.add(std::move(o));
  }
  for (std::int64_t id = 100; id <= 105; ++id)
    w->orders.add({id, 25.0 + static_cast<double>(id - 100) * 10.5, "USD", "pending", {}});
  static constexpr const char* kTypes[] = {"card", "bank_transfer", "card", "wallet", "card"};
  for (std::int64_t id = 1; id <= 5; ++id) w->payment_methods.add({id, kTypes[id - 1]});
  w->schedules.add({1, 1, "daily", now_epoch, now_epoch + 86400, {1, 2}});
  return w;
}

}  // namespace kiq::examples
