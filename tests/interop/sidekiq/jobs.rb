# Ruby job classes for the interop tests and benchmarks: the Ruby twins of kiq's built-in
# load-testing jobs (same class names, same argument conventions), so either side can run
# what the other enqueued.
require "sidekiq"

Redis.sadd_returns_boolean = false if Redis.respond_to?(:sadd_returns_boolean=)
# Benchmarks run the server with SIDEKIQ_QUIET=1: no per-job log lines (kiq runs --quiet too).
Sidekiq.logger.level = Logger::WARN if ENV["SIDEKIQ_QUIET"]

# Adds args[1] to the Redis set named args[0].
class MarkJob
  include Sidekiq::Worker
  def perform(set, id)
    Sidekiq.redis { |r| r.sadd(set, id) }
  end
end

# Does nothing, accepts any arguments.
class NoopJob
  include Sidekiq::Worker
  def perform(*) end
end

# Sleeps args[0] milliseconds.
class SleepJob
  include Sidekiq::Worker
  def perform(ms, *) = sleep(ms.to_f / 1000)
end

# Raises RuntimeError with args[0] as the message.
class FailingJob
  include Sidekiq::Worker
  def perform(message = "FailingJob failed", *) = raise(message)
end
