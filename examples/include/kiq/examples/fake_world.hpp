// Small in-memory stand-ins for what the tutorial's jobs talk to (ActiveRecord models, a payment
// gateway, mailers, an external sync API). They are deterministic and scriptable so tests and
// `kiq demo` can make a payment fail temporarily, a user lookup throw, a sync batch fail.
//
// Thread-safety: every class here is thread-safe (one mutex each); jobs run on many workers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiq::examples {

// Thrown by finders for an unknown id (ActiveRecord::RecordNotFound).
class RecordNotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct User {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string locale;
  std::string phone;
};

struct Notification {
  std::string subject;
  std::string body;
  std::vector<std::string> channels;  // "email" | "sms" | "push"
};

class Users {
 public:
  void add(User user);
  // Throws RecordNotFound("User not found") for unknown ids.
  User find(std::int64_t id) const;

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, User> users_;
};

// Builds the notification for a type: subject, body and channels (deterministic per type).
Notification build_notification(const User& user, const std::string& type);

// Records every message "sent", so tests can check deliveries.
class Outbox {
 public:
  void send(const std::string& channel, const std::string& to, const std::string& text);
  std::vector<std::string> sent() const;  // "<channel>:<to>:<text>"

 private:
  mutable std::mutex mu_;
  std::vector<std::string> sent_;
};

struct Transaction {
  std::int64_t product_id = 0;
  std::int64_t customer_id = 0;
  double amount = 0;
};

struct Organization {
  std::int64_t id = 0;
  std::string name;
  std::vector<Transaction> transactions;
};

class Organizations {
 public:
  void add(Organization org);
  Organization find(std::int64_t id) const;  // throws RecordNotFound

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, Organization> orgs_;
};

struct Order {
  std::int64_t id = 0;
  double total = 0;
  std::string currency = "USD";
  std::string status = "pending";  // pending | paid | payment_failed
  std::string transaction_id;
};

class Orders {
 public:
  void add(Order order);
  Order find(std::int64_t id) const;  // throws RecordNotFound
  void update(const Order& order);    // throws RecordNotFound

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, Order> orders_;
};

struct PaymentMethod {
  std::int64_t id = 0;
  std::string type;  // "card" | "bank_transfer" | ...
};

class PaymentMethods {
 public:
  void add(PaymentMethod method);
  PaymentMethod find(std::int64_t id) const;  // throws RecordNotFound

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, PaymentMethod> methods_;
};

// The gateway's error classes (PaymentGateway::TemporaryError / PermanentError in the tutorial).
class TemporaryPaymentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class PermanentPaymentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Charges succeed unless a failure was scripted for the payment method: each scripted outcome is
// consumed by one charge, in order.
class PaymentGateway {
 public:
  enum class Outcome { kOk, kTemporary, kPermanent, kUnexpected };
  struct Charge {
    std::string transaction_id;
  };

  void script(std::int64_t payment_method_id, std::vector<Outcome> outcomes);
  // Throws TemporaryPaymentError / PermanentPaymentError / std::logic_error (unexpected).
  Charge charge(const PaymentMethod& method, double amount);
  int charges() const;  // attempts so far

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, std::deque<Outcome>> scripted_;
  int attempts_ = 0;
};

struct ReportSchedule {
  std::int64_t id = 0;
  std::int64_t organization_id = 0;
  std::string frequency = "daily";       // daily | weekly | hourly
  double scheduled_for = 0;              // epoch seconds the run was due
  double next_run_at = 0;                // epoch seconds
  std::vector<std::int64_t> recipients;  // user ids
};

class Schedules {
 public:
  void add(ReportSchedule schedule);
  ReportSchedule find(std::int64_t id) const;  // throws RecordNotFound
  // Moves scheduled_for to next_run_at and next_run_at one period further.
  ReportSchedule calculate_next_run(std::int64_t id);

 private:
  mutable std::mutex mu_;
  std::map<std::int64_t, ReportSchedule> schedules_;
};

// ExternalApiService.sync_user: fails (std::runtime_error) for the scripted ids.
class SyncApi {
 public:
  void fail_for(std::set<std::int64_t> user_ids);
  void sync_user(const User& user);
  std::vector<std::int64_t> synced() const;

 private:
  mutable std::mutex mu_;
  std::set<std::int64_t> failing_;
  std::vector<std::int64_t> synced_;
};

// Everything the example jobs use, shared by all of them.
struct FakeWorld {
  Users users;
  Outbox outbox;
  Organizations organizations;
  Orders orders;
  PaymentMethods payment_methods;
  PaymentGateway gateway;
  Schedules schedules;
  SyncApi sync_api;

  // Users 1..20, organizations 1..2 with transactions, orders 100..105, payment methods 1..5,
  // schedule 1 (org 1, daily, due now); no scripted failures.
  static std::shared_ptr<FakeWorld> seeded(double now_epoch);
};

}  // namespace kiq::examples
