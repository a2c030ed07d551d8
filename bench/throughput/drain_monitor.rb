# Measures how fast a server drains a queue, from outside (same method for kiq and Sidekiq):
# t0 = the first moment the queue is shorter than TOTAL (the first job was taken), t1 = the
# first moment it is empty and no fetched-but-unfinished job is left in a list or hash matching
# INPROGRESS_PATTERN (kiq's reliable-fetch hashes; Sidekiq keeps them in memory, so its last
# <= concurrency jobs are not visible: negligible for no-op jobs).
# Usage: REDIS_URL=... ruby drain_monitor.rb QUEUE TOTAL [INPROGRESS_PATTERN]
# Prints "<seconds> <jobs/s>" on stdout. Polls every millisecond with one connection.
require "redis"

queue, total, pattern = ARGV[0], Integer(ARGV[1]), ARGV[2]
redis = Redis.new(url: ENV.fetch("REDIS_URL"))
key = "queue:#{queue}"
clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
deadline = clock.call + Integer(ENV.fetch("DRAIN_TIMEOUT", "600"))
check_deadline = -> { abort "drain_monitor: timed out (#{redis.llen(key)} left)" if clock.call > deadline }

$stdout.puts("ready"); $stdout.flush
until redis.llen(key) < total
  check_deadline.call
  sleep 0.001
end
t0 = clock.call

in_progress = lambda do
  next 0 unless pattern
  redis.scan_each(match: pattern, count: 1000).sum do |k|
    case redis.type(k)
    when "list" then redis.llen(k)
    when "hash" then redis.hlen(k)  # kiq's in-progress hashes (and poller claims)
    else 0
    end
  end
end
loop do
  check_deadline.call
  break if redis.llen(key).zero? && in_progress.call.zero?
  sleep 0.001
end
t1 = clock.call
puts format("%.4f %.0f", t1 - t0, total / (t1 - t0))
