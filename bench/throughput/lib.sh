# Shared helpers for the kiq-vs-Sidekiq benchmarks (sourced by bench/throughput/run and
# bench/enqueue/run). One fresh redis-server on a free loopback port per run, stopped on exit.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
RUBY_JOBS="$ROOT/tests/interop/sidekiq/jobs.rb"
KIQ="${KIQ_BIN:-$ROOT/build/kiq}"
CONCURRENCY=${CONCURRENCY:-10}
TOTAL=${TOTAL:-100000}
# kiq's reliable-fetch (in-progress) hashes (see src/store/redis): counted as "not yet done" while draining.
KIQ_INPROGRESS_PATTERN=${KIQ_INPROGRESS_PATTERN:-kiq:*}

WORK=$(mktemp -d /tmp/kiq-bench.XXXXXX)
REDIS_PID=""
SERVER_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[bench] $*" >&2; }

build_kiq() {
  if [ -z "${KIQ_BIN:-}" ] && [ -z "${BENCH_NO_BUILD:-}" ]; then
    log "building release kiq"
    "$ROOT/scripts/build" release kiq >&2
  fi
  [ -x "$KIQ" ] || { echo "bench: $KIQ not found (scripts/build release kiq)" >&2; exit 1; }
  command -v sidekiq >/dev/null || { echo "bench: Ruby sidekiq not installed (apt-get install ruby-sidekiq)" >&2; exit 1; }
}

free_port() { ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close'; }

start_redis() {
  local port; port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    --daemonize no --loglevel warning >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  export REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-cli -p "$port" ping >/dev/null || { echo "bench: redis-server did not start" >&2; exit 1; }
  REDIS_PORT=$port
  log "redis-server pid $REDIS_PID on $REDIS_URL"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# Pushes TOTAL NoopJobs with Ruby's push_bulk (batches of 1000); prints jobs/s measured inside
# Ruby (excluding interpreter start-up).
ruby_push_bulk() {
  REDIS_URL=$REDIS_URL ruby -r "$RUBY_JOBS" -e '
    Sidekiq.logger.level = Logger::WARN
    total = Integer(ARGV[0]); t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    (total / 1000).times { Sidekiq::Client.push_bulk("class" => "NoopJob", "args" => Array.new(1000) { [] }) }
    dt = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    cpu = Process.times.utime + Process.times.stime
    warn format("[bench] sidekiq push_bulk: %.2f s wall, %.2f s CPU (interpreter start-up excluded)", dt, cpu)
    puts format("%.0f", total / dt)' "$TOTAL"
}

# Pushes TOTAL NoopJobs with `kiq enqueue --count` (push_bulk); prints jobs/s measured around
# the whole command (start-up included: this only disadvantages kiq).
kiq_push_bulk() {
  local t0 t1 TIMEFORMAT='%U %S'
  t0=$(date +%s.%N)
  { time "$KIQ" enqueue NoopJob '[]' --count "$TOTAL" --redis "$REDIS_URL" >/dev/null; } 2>"$WORK/kiq.time"
  t1=$(date +%s.%N)
  read -r user sys <"$WORK/kiq.time"
  log "kiq enqueue: $(ruby -e 'printf("%.2f", ARGV[1].to_f - ARGV[0].to_f)' "$t0" "$t1") s wall, $(ruby -e 'printf("%.2f", ARGV[0].to_f + ARGV[1].to_f)' "$user" "$sys") s CPU (start-up included)"
  ruby -e 'printf("%.0f\n", ARGV[0].to_f / (ARGV[2].to_f - ARGV[1].to_f))' "$TOTAL" "$t0" "$t1"
}

# Starts the drain monitor, then the server command ("$@"); waits for the drain; leaves the
# server running (SERVER_PID) so its peak RSS can be read. Sets DRAIN_SECS and DRAIN_RATE
# (call it directly, not in $(...): the globals must survive).
drain_with() {
  local pattern=$1; shift
  local label=sidekiq; [ -n "$pattern" ] && label=kiq
  local fifo="$WORK/monitor.out"
  REDIS_URL=$REDIS_URL ruby "$BENCH_DIR/drain_monitor.rb" default "$TOTAL" $pattern >"$fifo" &
  local mon=$!
  for _ in $(seq 200); do grep -q ready "$fifo" 2>/dev/null && break; sleep 0.05; done
  "$@" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  if ! wait "$mon"; then
    echo "bench: drain failed; server log tail:" >&2; tail -20 "$WORK/server.log" >&2; exit 1
  fi
  read -r DRAIN_SECS DRAIN_RATE < <(tail -1 "$fifo")
  DRAIN_CPU=$(cpu_secs "$SERVER_PID")
  log "$label drain: ${DRAIN_SECS} s wall, server CPU ${DRAIN_CPU} s (start-up included), load average $(cut -d' ' -f1 /proc/loadavg)"
}

# CPU seconds (user + system, all threads) a live process has used so far.
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{ printf("%.2f\n", ($14 + $15) / hz) }' "/proc/$1/stat"; }

peak_rss_mb() { awk '/VmHWM/ { printf("%.1f\n", $2 / 1024) }' "/proc/$1/status"; }

# Stops the running server gracefully (SIGTERM) and waits for it.
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

processed() { rcli get stat:processed | sed 's/^$/0/'; }

# Checks that stat:processed grew by TOTAL since $1 (jobs were really run, not lost).
check_processed() {
  local before=$1 after; after=$(processed)
  if [ $((after - before)) -ne "$TOTAL" ]; then
    echo "bench: $2 processed $((after - before)) jobs, expected $TOTAL" >&2
    exit 1
  fi
}

kiq_server_cmd() { echo "$KIQ" server -c "$CONCURRENCY" -q default --redis "$REDIS_URL" --quiet; }
sidekiq_server_cmd() { echo env SIDEKIQ_QUIET=1 sidekiq -r "$RUBY_JOBS" -c "$CONCURRENCY" -q default; }

ratio() { ruby -e 'printf("%.1f\n", ARGV[0].to_f / ARGV[1].to_f)' "$1" "$2"; }
