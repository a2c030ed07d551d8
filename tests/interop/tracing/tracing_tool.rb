# Ruby Sidekiq 6.4.1 side of kiq's tracing interop tests (REDIS_URL selects the server).
#
#   ruby tracing_tool.rb push_traced QUEUE CLASS TRACEPARENT [TRACESTATE] [BAGGAGE]
#       pushes a job whose hash carries the trace context as TOP-LEVEL string keys, exactly
#       where opentelemetry-instrumentation-sidekiq's client middleware injects it; prints the jid
#   ruby tracing_tool.rb first QUEUE
#       prints the oldest job hash of QUEUE as Sidekiq reads it (null when empty)
#
# Output: one JSON document on stdout.
require 'json'
require 'sidekiq'
require 'sidekiq/api'

Sidekiq.logger.level = Logger::WARN

cmd = ARGV.shift
case cmd
when 'push_traced'
  queue, klass, traceparent, tracestate, baggage = ARGV
  item = { 'class' => klass, 'queue' => queue, 'args' => [], 'traceparent' => traceparent }
  item['tracestate'] = tracestate if tracestate && !tracestate.empty?
  item['baggage'] = baggage if baggage && !baggage.empty?
  puts JSON.generate(Sidekiq::Client.push(item))
when 'first'
  job = Sidekiq::Queue.new(ARGV.fetch(0)).to_a.last  # LPUSH'd: the oldest is the last
  if job.nil?
    puts 'null'
  else
    item = job.item
    # What a Ruby consumer extracts: W3C version-traceid-parentid-flags.
    parts = item['traceparent'].to_s.split('-')
    item['_ruby_parsed'] = { 'version' => parts[0], 'trace_id' => parts[1], 'span_id' => parts[2],
                             'flags' => parts[3] }
    puts JSON.generate(item)
  end
else
  warn "unknown command #{cmd.inspect}"
  exit 2
end
