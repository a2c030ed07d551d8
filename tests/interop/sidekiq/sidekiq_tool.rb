# Ruby Sidekiq's side of the interop tests: each subcommand uses Sidekiq's own client/API
# (never raw Redis) and prints one JSON document on stdout, so a C++ test can check what Ruby
# sees. Usage: REDIS_URL=... ruby sidekiq_tool.rb <command> [args...]
require "json"
require_relative "jobs"
require "sidekiq/api"

Sidekiq.logger.level = Logger::WARN

def out(obj) = puts(JSON.generate(obj))

def job_view(entry)
  { "jid" => entry.jid, "class" => entry.klass, "args" => entry.args, "queue" => entry.queue,
    "score" => entry.score, "error_class" => entry["error_class"],
    "error_message" => entry["error_message"], "retry_count" => entry["retry_count"],
    "failed_at" => entry["failed_at"], "item" => entry.item }
end

def sorted_set(name)
  { "retries" => Sidekiq::RetrySet, "scheduled" => Sidekiq::ScheduledSet,
    "dead" => Sidekiq::DeadSet }.fetch(name).new
end

cmd, *argv = ARGV
case cmd
when "push"          # push SET FIRST COUNT [QUEUE]: MarkJobs with ids FIRST...FIRST+COUNT-1
  set, first, count, queue = argv
  jids = (first.to_i...(first.to_i + count.to_i)).map do |i|
    Sidekiq::Client.push("class" => "MarkJob", "args" => [set, i.to_s], "queue" => queue || "default")
  end
  out(jids)
when "push_in"       # push_in SECONDS SET ID: MarkJob.perform_in
  secs, set, id = argv
  out([MarkJob.perform_in(secs.to_f, set, id)])
when "push_class"    # push_class CLASS ARGS_JSON [QUEUE]
  klass, args, queue = argv
  out([Sidekiq::Client.push("class" => klass, "args" => JSON.parse(args), "queue" => queue || "default")])
when "list"          # list retries|scheduled|dead
  out(sorted_set(argv[0]).map { |e| job_view(e) })
when "retry_all", "kill_all"   # retry_all|kill_all retries|scheduled|dead
  set = sorted_set(argv[0])
  set.each { |e| cmd == "retry_all" ? e.retry : e.kill }
  out("ok" => true)
when "stats"
  s = Sidekiq::Stats.new
  out("processed" => s.processed, "failed" => s.failed, "enqueued" => s.enqueued,
      "scheduled" => s.scheduled_size, "retries" => s.retry_size, "dead" => s.dead_size,
      "processes" => s.processes_size, "workers" => s.workers_size,
      "queues" => s.queues)
when "processes"
  fields = %w[hostname started_at pid tag concurrency queues labels identity busy beat quiet rss rtt_us]
  out(Sidekiq::ProcessSet.new.map { |p| fields.to_h { |k| [k, p[k]] }.merge("stopping" => p.stopping?) })
when "workers"
  out(Sidekiq::Workers.new.map { |process_id, tid, work|
    { "process" => process_id, "tid" => tid, "queue" => work["queue"], "run_at" => work["run_at"],
      "payload" => work["payload"].is_a?(String) ? JSON.parse(work["payload"]) : work["payload"] }
  })
when "queue_size"
  out(Sidekiq::Queue.new(argv[0] || "default").size)
when "web"           # web PATH...: renders Sidekiq's Web UI pages, prints status + body per path
  require "sidekiq/web"
  require "rack/session/cookie" rescue nil
  app = Rack::Builder.new do
    use Rack::Session::Cookie, secret: "x" * 64
    run Sidekiq::Web
  end
  out(argv.map { |path|
    res = Rack::MockRequest.new(app).get(path)
    { "path" => path, "status" => res.status, "body" => res.body }
  })
else
  warn "unknown command #{cmd.inspect}"
  exit 2
end
