// Decodes the request bodies kiq_bench_otlp_sink kept (a tenth of them) (each preceded by its length, 4 bytes
// little-endian) with the official definitions (@opentelemetry/otlp-transformer) and counts the
// spans. Prints "requests <n> spans <n> bytes <n> undecodable <n>".
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'interop', 'node', 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const file = fs.readFileSync(process.argv[2]);
let requests = 0, spans = 0, bytes = 0, undecodable = 0;
for (let at = 0; at + 4 <= file.length;) {
  const length = file.readUInt32LE(at);
  const body = file.subarray(at + 4, at + 4 + length);
  at += 4 + length;
  requests += 1;
  bytes += length;
  try {
    const msg = Request.decode(body);
    for (const rs of msg.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
  } catch {
    undecodable += 1;
  }
}
console.log(`requests ${requests} spans ${spans} bytes ${bytes} undecodable ${undecodable}`);
