// A local OTLP/HTTP receiver for bench/tracing: answers 200 to every POST and keeps the bodies;
// on SIGTERM decodes them with the official definitions (@opentelemetry/otlp-transformer) to
// count spans (decoding later keeps the receiver off the 2 CPUs the measured drain uses).
// Prints "port <n>" once listening; on SIGTERM "requests <n> spans <n> bytes <n> undecodable <n>".
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'interop', 'node', 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

let requests = 0, spans = 0, bytes = 0, undecodable = 0;
const bodies = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    requests += 1;
    bytes += body.length;
    bodies.push(body);
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => {
  for (const body of bodies) {
    try {
      const msg = Request.decode(body);
      for (const rs of msg.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
    } catch {
      undecodable += 1;
    }
  }
  console.log(`requests ${requests} spans ${spans} bytes ${bytes} undecodable ${undecodable}`);
  process.exit(0);
});
