// Decodes OTLP trace request bodies captured from kiq with the OFFICIAL OpenTelemetry
// definitions (@opentelemetry/otlp-transformer's generated protobufjs root) and compares them
// with what kiq's SDK recorded.
//
//   node decode.mjs <body.pb|body.json>... <expected.json>
//   node decode.mjs --dump <body.pb|body.json>...   (prints the canonical form of each body as
//        one JSON array per line, for other tests to assert on; exit 1 if a body fails to decode)
//
// *.pb  : ExportTraceServiceRequest.decode (binary protobuf)
// *.json: OTLP/JSON -> hex ids turned into bytes -> ExportTraceServiceRequest.fromObject +
//         verify; the JSON text itself is also checked against the OTLP/JSON rules.
// Both are normalised to one canonical form and must deep-equal expected.json (written by the
// C++ test from the SpanData the SDK produced). Exit status 0 = all equal, 1 = mismatch.
//
// The npm definitions (0.57) predate Span.flags (16) / Link.flags (6); for protobuf bodies those
// fields are read straight from the wire with protobufjs' own Reader.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.join(here, '..', 'node');
const require = createRequire(path.join(nodeDir, 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const protobuf = require('protobufjs/minimal');

const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const args = process.argv.slice(2);
const dump = args[0] === '--dump';
if (args.length < 2) {
  console.error('usage: node decode.mjs <body.pb|body.json>... <expected.json>\n' +
                '       node decode.mjs --dump <body.pb|body.json>...');
  process.exit(2);
}
const expected = dump ? null : JSON.parse(readFileSync(args[args.length - 1], 'utf8'));
const bodies = dump ? args.slice(1) : args.slice(0, -1);

const hex = (b64) => Buffer.from(b64 || '', 'base64').toString('hex');
const b64 = (hexStr) => Buffer.from(hexStr || '', 'hex').toString('base64');

function anyValue(v) {
  if (v == null) return null;
  if (v.stringValue != null) return { type: 'string', value: v.stringValue };
  if (v.boolValue != null) return { type: 'bool', value: v.boolValue };
  if (v.intValue != null) return { type: 'int', value: String(v.intValue) };
  if (v.doubleValue != null) return { type: 'double', value: Number(v.doubleValue) };
  if (v.arrayValue != null) {
    return { type: 'array', value: (v.arrayValue.values || []).map(anyValue) };
  }
  if (v.kvlistValue != null) return { type: 'kvlist', value: attributes(v.kvlistValue.values) };
  if (v.bytesValue != null) return { type: 'bytes', value: hex(v.bytesValue) };
  return { type: 'empty' };
}

function attributes(list) {
  return (list || []).map((kv) => ({ key: kv.key, value: anyValue(kv.value) }));
}

// Canonical form shared with the C++ side (see interop_test.cpp, canonical()).
function canonical(obj, flagsOf) {
  return (obj.resourceSpans || []).map((rs, ri) => ({
    resource: attributes(rs.resource && rs.resource.attributes),
    scopes: (rs.scopeSpans || []).map((ss, si) => ({
      name: (ss.scope && ss.scope.name) || '',
      version: (ss.scope && ss.scope.version) || '',
      spans: (ss.spans || []).map((s, i) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        traceState: s.traceState || '',
        name: s.name,
        kind: s.kind,
        start: String(s.startTimeUnixNano),
        end: String(s.endTimeUnixNano),
        attributes: attributes(s.attributes),
        droppedAttributesCount: s.droppedAttributesCount || 0,
        events: (s.events || []).map((e) => ({
          name: e.name,
          time: String(e.timeUnixNano),
          attributes: attributes(e.attributes),
        })),
        links: (s.links || []).map((l, li) => ({
          traceId: hex(l.traceId),
          spanId: hex(l.spanId),
          traceState: l.traceState || '',
          attributes: attributes(l.attributes),
          flags: flagsOf.link(ri, si, i, li, l),
        })),
        status: { code: (s.status && s.status.code) || 0, message: (s.status && s.status.message) || '' },
        flags: flagsOf.span(ri, si, i, s),
      })),
    })),
  }));
}

const toObjectOptions = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

// --- raw wire access for fields the npm definitions do not know ------------------------------
// Returns the sub-messages (as byte arrays) of `field` inside `bytes`.
function subMessages(bytes, field) {
  const r = protobuf.Reader.create(bytes);
  const out = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) out.push(r.bytes());
    else r.skipType(tag & 7);
  }
  return out;
}
function fixed32Field(bytes, field) {
  const r = protobuf.Reader.create(bytes);
  let value = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 5) value = r.fixed32();
    else r.skipType(tag & 7);
  }
  return value;
}
function wireFlags(buffer) {
  const spans = subMessages(buffer, 1).map((rs) =>
    subMessages(rs, 2).map((ss) => subMessages(ss, 2)));
  return {
    span: (ri, si, i) => fixed32Field(spans[ri][si][i], 16),
    link: (ri, si, i, li) => fixed32Field(subMessages(spans[ri][si][i], 13)[li], 6),
  };
}

// --- OTLP/JSON text rules (otel.md D.4) ----------------------------------------------------
function checkJsonRules(json) {
  const walk = (v, where) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}[${i}]`));
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        assert.ok(!k.includes('_'), `snake_case key ${where}.${k}`);
        if (['traceId', 'spanId', 'parentSpanId'].includes(k)) {
          assert.match(x, /^[0-9a-f]*$/, `${where}.${k} must be lowercase hex, got ${x}`);
        }
        if (['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'intValue'].includes(k)) {
          assert.equal(typeof x, 'string', `${where}.${k} must be a decimal string`);
        }
        if (k === 'kind' || k === 'code' || k === 'flags') {
          assert.equal(typeof x, 'number', `${where}.${k} must be an integer`);
        }
        walk(x, `${where}.${k}`);
      }
    }
  };
  walk(json, '$');
}

function jsonToProtoObject(json) {
  // OTLP/JSON ids are hex; protobufjs' fromObject wants base64 for bytes.
  const copy = structuredClone(json);
  for (const rs of copy.resourceSpans || []) {
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) if (s[k] != null) s[k] = b64(s[k]);
        for (const l of s.links || []) for (const k of ['traceId', 'spanId']) l[k] = b64(l[k]);
      }
    }
  }
  return copy;
}

function decode(file) {
  const buffer = readFileSync(file);
  if (file.endsWith('.json')) {
    const json = JSON.parse(buffer.toString('utf8'));
    checkJsonRules(json);
    const asProto = jsonToProtoObject(json);
    const message = Request.fromObject(asProto);
    const error = Request.verify(message);
    assert.equal(error, null, `verify failed: ${error}`);
    const obj = Request.toObject(message, toObjectOptions);
    const rs = json.resourceSpans || [];
    return canonical(obj, {
      span: (ri, si, i) => rs[ri].scopeSpans[si].spans[i].flags ?? 0,
      link: (ri, si, i, li) => rs[ri].scopeSpans[si].spans[i].links[li].flags ?? 0,
    });
  }
  const message = Request.decode(buffer);
  return canonical(Request.toObject(message, toObjectOptions), wireFlags(buffer));
}

// The fixture must really be rich; otherwise the comparison proves little.
function checkCoverage(c) {
  const spans = c.flatMap((r) => r.scopes.flatMap((s) => s.spans));
  const types = new Set();
  const visit = (v) => {
    types.add(v.type);
    if (v.type === 'array' && v.value.length) types.add(`array<${v.value[0].type}>`);
  };
  spans.forEach((s) => s.attributes.forEach((a) => visit(a.value)));
  for (const t of ['string', 'bool', 'int', 'double', 'array<string>', 'array<bool>', 'array<int>', 'array<double>']) {
    assert.ok(types.has(t), `fixture lacks an attribute of type ${t}`);
  }
  assert.deepEqual([...new Set(spans.map((s) => s.kind))].sort(), [1, 2, 3, 4, 5], 'all span kinds');
  assert.ok(spans.some((s) => s.parentSpanId && (s.flags & 0x300) === 0x300), 'a remote-parent child');
  assert.ok(spans.some((s) => s.parentSpanId && (s.flags & 0x300) === 0x100), 'a local-parent child');
  assert.ok(spans.some((s) => !s.parentSpanId), 'a root span');
  assert.ok(spans.some((s) => s.events.some((e) => e.attributes.length)), 'events with attributes');
  assert.ok(spans.some((s) => s.links.some((l) => l.attributes.length)), 'links with attributes');
  assert.ok(spans.some((s) => s.status.code === 2 && s.status.message), 'Error status with message');
  assert.ok(c.some((r) => r.resource.some((a) => a.key === 'service.name')), 'service.name');
  const scopes = c.flatMap((r) => r.scopes);
  assert.ok(scopes.length >= 2 && scopes.every((s) => s.name && s.version), 'two scopes with versions');
}

let failed = false;
if (dump) {
  for (const file of bodies) {
    try {
      console.log(JSON.stringify(decode(file)));
    } catch (e) {
      failed = true;
      console.error(`FAIL ${path.basename(file)}: ${e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
for (const file of bodies) {
  try {
    const actual = decode(file);
    assert.deepEqual(actual, expected, `${file} does not match the spans kiq recorded`);
    checkCoverage(actual);
    const n = actual.flatMap((r) => r.scopes.flatMap((s) => s.spans)).length;
    console.log(`ok   ${path.basename(file)}: ${n} spans decoded with the official definitions`);
  } catch (e) {
    failed = true;
    console.error(`FAIL ${path.basename(file)}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
