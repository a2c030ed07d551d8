// Decodes the OTLP/protobuf requests `kiq demo` sent (captured by the C++ test's receiver) with
// the OFFICIAL OpenTelemetry definitions (@opentelemetry/otlp-transformer's generated protobufjs
// root) and checks that the spans form the expected trees (child propagation: one tree per web
// request).
//
//   node demo_trees.mjs <request.pb>...
//
// Exit status 0 = every expectation holds, 1 = a mismatch (printed), 2 = usage.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'node', 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node demo_trees.mjs <request.pb>...');
  process.exit(2);
}

const SERVER = 2, PRODUCER = 4, CONSUMER = 5, INTERNAL = 1, ERROR = 2;
const hex = (b64) => Buffer.from(b64 || '', 'base64').toString('hex');

function value(v) {
  if (!v) return undefined;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return Number(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.arrayValue != null) return (v.arrayValue.values || []).map(value);
  return undefined;
}
const attrs = (list) => Object.fromEntries((list || []).map((kv) => [kv.key, value(kv.value)]));

// --- decode every request into one flat span list --------------------------------------------
const spans = [];
const resources = [];
for (const file of files) {
  const obj = Request.toObject(Request.decode(readFileSync(file)),
    { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
  for (const rs of obj.resourceSpans || []) {
    resources.push(attrs(rs.resource && rs.resource.attributes));
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        spans.push({
          traceId: hex(s.traceId), spanId: hex(s.spanId), parent: hex(s.parentSpanId),
          name: s.name, kind: s.kind, scope: (ss.scope && ss.scope.name) || '',
          attributes: attrs(s.attributes),
          events: (s.events || []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
          links: (s.links || []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          status: (s.status && s.status.code) || 0,
          statusMessage: (s.status && s.status.message) || '',
        });
      }
    }
  }
}

const byId = new Map(spans.map((s) => [s.spanId, s]));
const children = (s) => spans.filter((c) => c.parent === s.spanId && c.traceId === s.traceId);
const descendants = (s) => children(s).flatMap((c) => [c, ...descendants(c)]);
const inTrace = (s, pred) => spans.filter((x) => x.traceId === s.traceId && pred(x));
const hasEvent = (s, name) => s.events.some((e) => e.name === name);
const failures = [];
function check(what, fn) {
  try {
    fn();
    console.log(`ok   ${what}`);
  } catch (e) {
    failures.push(what);
    console.log(`FAIL ${what}: ${e.message}`);
  }
}

check('resource names the service', () => {
  assert.ok(resources.length > 0, 'no resource');
  for (const r of resources) assert.equal(r['service.name'], 'kiq-demo');
});

check('every parent id resolves inside the export (no orphans)', () => {
  for (const s of spans) if (s.parent) assert.ok(byId.has(s.parent), `${s.name} has a missing parent ${s.parent}`);
});

const roots = spans.filter((s) => s.kind === SERVER && !s.parent);
const request = (route) => {
  const r = roots.find((s) => s.attributes['http.route'] === route);
  assert.ok(r, `no web request span for ${route}`);
  return r;
};

check('six web requests, each the root of its own trace', () => {
  assert.equal(roots.length, 6, roots.map((r) => r.name).join(', '));
  assert.equal(new Set(roots.map((r) => r.traceId)).size, 6);
});

check('each request enqueued a job: SERVER -> PRODUCER "<queue> publish" -> CONSUMER "<queue> process"', () => {
  for (const r of roots) {
    const pubs = children(r).filter((c) => c.kind === PRODUCER);
    assert.equal(pubs.length, 1, `${r.name}: ${pubs.length} publish spans`);
    const pub = pubs[0];
    assert.match(pub.name, /^\w+ publish$/);
    assert.equal(pub.attributes['messaging.system'], 'sidekiq');
    assert.equal(pub.attributes['messaging.destination_kind'], 'queue');
    assert.equal(pub.attributes['messaging.message_id'], pub.attributes['sidekiq.job.jid']);
    assert.ok(hasEvent(pub, 'created_at'));
    const procs = children(pub).filter((c) => c.kind === CONSUMER);
    assert.ok(procs.length >= 1, `${r.name}: the job's process span is not a child of its publish span`);
    for (const p of procs) {
      assert.equal(p.name, pub.name.replace(' publish', ' process'));
      assert.equal(p.attributes['messaging.operation'], 'process');
      assert.deepEqual(p.events.slice(0, 2).map((e) => e.name), ['created_at', 'enqueued_at']);
      assert.equal(typeof p.attributes['job.queue_wait_time_ms'], 'number');
    }
  }
});

check('spans made inside a job carry its jid', () => {
  for (const p of spans.filter((s) => s.kind === CONSUMER)) {
    for (const d of descendants(p).filter((x) => x.kind === INTERNAL)) {
      // The nearest CONSUMER ancestor is the job that made the span.
      let up = byId.get(d.parent);
      while (up && up.kind !== CONSUMER) up = byId.get(up.parent);
      assert.equal(d.attributes['sidekiq.job.jid'], up.attributes['sidekiq.job.jid'], d.name);
    }
  }
});

check('payment 101: temporary failure, then success on the retry, one trace', () => {
  const r = request('/orders/101/pay');
  const procs = inTrace(r, (s) => s.name === 'payments process');
  assert.equal(procs.length, 2);
  const failed = procs.find((p) => p.status === ERROR);
  const retried = procs.find((p) => p.status !== ERROR);
  assert.ok(failed && retried);
  assert.equal(failed.parent, retried.parent, 'both attempts hang off the one publish span');
  assert.equal(failed.statusMessage, 'Unhandled exception of type: kiq::examples::TemporaryPaymentError');
  assert.ok(hasEvent(failed, 'exception'));
  assert.equal(failed.attributes['kiq.job.outcome'], 'retry');
  assert.equal(retried.attributes['job.retry_count'], 0);
  assert.ok(hasEvent(retried, 'job.retry'));
  const payments = inTrace(r, (s) => s.name === 'payment.process');
  assert.ok(payments.some((p) => p.attributes['payment.error.temporary'] === true && p.status === ERROR));
  assert.ok(payments.some((p) => p.attributes['payment.success'] === true));
});

check('payment 102: permanent failure handled, customer notified in the same trace', () => {
  const r = request('/orders/102/pay');
  const pay = inTrace(r, (s) => s.name === 'payment.process')[0];
  assert.ok(pay);
  assert.equal(pay.status, ERROR);
  assert.equal(pay.statusMessage, 'Card declined: insufficient funds');
  assert.equal(pay.attributes['payment.error.permanent'], true);
  assert.equal(pay.attributes['payment.error.retry'], false);
  assert.equal(inTrace(r, (s) => s.name === 'customer.notify').length, 1);
  const job = inTrace(r, (s) => s.name === 'payments process')[0];
  assert.notEqual(job.status, ERROR, 'the job itself succeeded');
});

check('report: section jobs in the generator\'s trace', () => {
  const r = request('/reports');
  const generate = inTrace(r, (s) => s.name === 'report.generate')[0];
  assert.ok(generate);
  for (const section of ['sales', 'inventory', 'customers']) {
    const s = inTrace(r, (x) => x.name === `report.process_section.${section}`);
    assert.equal(s.length, 1, section);
    assert.ok(descendants(generate).includes(s[0]), `${section} is not under report.generate`);
    assert.equal(s[0].attributes['report.section'], section);
  }
});

check('scheduled report runs late: schedule.drift event', () => {
  const r = request('/report_schedules/1/run');
  const exec = inTrace(r, (s) => s.name === 'scheduled_report.execute')[0];
  assert.ok(exec);
  assert.ok(exec.attributes['schedule.drift_seconds'] > 300);
  const drift = exec.events.find((e) => e.name === 'schedule.drift');
  assert.ok(drift);
  assert.equal(drift.attributes['drift_minutes'], 7);
  assert.equal(inTrace(r, (s) => s.name === 'report.deliver').length, 2);
});

check('user sync below the success threshold', () => {
  const r = request('/admin/user_sync');
  const batch = inTrace(r, (s) => s.name === 'batch.user_sync')[0];
  assert.ok(batch);
  assert.equal(batch.attributes['batch.size'], 10);
  assert.equal(batch.attributes['batch.failed'], 3);
  assert.equal(batch.attributes['batch.success_rate'], 0.7);
  const low = batch.events.find((e) => e.name === 'low_success_rate');
  assert.ok(low);
  assert.equal(low.attributes['failed_count'], 3);
  const users = children(batch).filter((c) => c.name === 'user.sync');
  assert.equal(users.length, 10);
  assert.equal(users.filter((u) => u.status === ERROR && hasEvent(u, 'exception')).length, 3);
});

console.log(`${spans.length} spans in ${files.length} request(s); ${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
