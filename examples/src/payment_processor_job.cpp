// PaymentProcessorJob (queue payments, retry 5): charge the order; temporary gateway errors are
// retried, permanent ones are handled (order failed, customer notified, job succeeds).
#include "args.hpp"
#include "jobs_internal.hpp"
#include "kiq/client.hpp"

namespace kiq::examples::detail {
namespace {

// Like Tracer::in_span, but an exception the job already recorded (with its own message as the
// status) is not recorded a second time on the way out.
struct Recorded {
  bool done = false;
};

void record_error(otel::Span& span, const std::exception& e, Recorded& recorded) {
  span.record_exception(e);
  span.set_status(otel::StatusCode::kError, e.what());
  recorded.done = true;
}

template <class F>
void in_recording_span(otel::Tracer& tracer, std::string_view name, otel::StartSpanOptions start, F&& fn) {
  otel::SpanPtr span = tracer.start_span(name, std::move(start));
  Recorded recorded;
  try {
    otel::Scope scope(span);
    fn(*span, recorded);
  } catch (...) {
    if (!recorded.done) {
      span->record_current_exception();
      span->set_status(otel::StatusCode::kError,
                       "Unhandled exception of type: " + otel::current_exception_type_name());
    }
    span->end();
    throw;
  }
  span->end();
}

}  // namespace

void payment_processor(FakeWorld& w, JobContext& ctx, const Json& args) {
  const std::int64_t order_id = int_arg(kPaymentProcessorJob, args, 0, "order_id");
  const std::int64_t method_id = int_arg(kPaymentProcessorJob, args, 1, "payment_method_id");
  auto tracer = app_tracer();

  in_recording_span(
      *tracer, "payment.process",
      with_attributes({{"order.id", order_id}, {"payment_method.id", method_id}}),
      [&](otel::Span& span, Recorded& recorded) {
        Order order = w.orders.find(order_id);
        PaymentMethod method = w.payment_methods.find(method_id);
        span.set_attribute("order.amount", order.total);
        span.set_attribute("payment_method.type", method.type);

        if (auto count = ctx.retry_count()) {
          std::string error_class = ctx.job().value("error_class", std::string());
          span.set_attribute("job.retry_count", static_cast<std::int64_t>(*count));
          span.add_event("job.retry", {{"retry_count", static_cast<std::int64_t>(*count)},
                                       {"error_class", error_class}});
        }

        try {
          auto charge = tracer->in_span(
              "payment.charge",
              with_attributes({{"amount", order.total}, {"currency", order.currency}}),
              [&] { return w.gateway.charge(method, order.total); });
          span.set_attribute("payment.success", true);
          span.set_attribute("payment.transaction_id", charge.transaction_id);
          tracer->in_span("order.update", [&] {
            order.status = "paid";
            order.transaction_id = charge.transaction_id;
            w.orders.update(order);
          });
        } catch (const TemporaryPaymentError& e) {
          record_error(span, e, recorded);
          span.set_attribute("payment.error.temporary", true);
          span.set_attribute("payment.error.retry", true);
          throw;  // the engine retries it
        } catch (const PermanentPaymentError& e) {
          record_error(span, e, recorded);
          span.set_attribute("payment.error.permanent", true);
          span.set_attribute("payment.error.retry", false);
          order.status = "payment_failed";
          w.orders.update(order);
          ctx.client().perform_async(kCustomerNotificationJob, Json::array({order.id, "payment_failed"}));
          // Handled: the job succeeds.
        } catch (const std::exception& e) {
          record_error(span, e, recorded);
          span.set_attribute("payment.error.unexpected", true);
          throw;
        }
      });
}

void customer_notification(FakeWorld& w, JobContext&, const Json& args) {
  const std::int64_t order_id = int_arg(kCustomerNotificationJob, args, 0, "order_id");
  const std::string type = string_arg(kCustomerNotificationJob, args, 1, "notification_type");
  app_tracer()->in_span(
      "customer.notify", with_attributes({{"order.id", order_id}, {"notification.type", type}}),
      [&](otel::Span& span) {
        Order order = w.orders.find(order_id);
        w.outbox.send("email", fmt::format("customer-of-order-{}", order.id),
                      fmt::format("{}: order {} ({:.2f} {})", type, order.id, order.total, order.currency));
        span.set_attribute("order.status", order.status);
        span.set_attribute("notification.sent", true);
      });
}

}  // namespace kiq::examples::detail
