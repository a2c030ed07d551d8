// Node side of `bench/run spans`: the same scenario with the official SDK
// (@opentelemetry/sdk-trace-base 2.x): span start + 3 attributes + end, BatchSpanProcessor with
// default options and an exporter whose export() only reports success.
// Prints: RESULT node-sdk threads=<t> spans=<n> ns_per_span=<x> [cpu_ns_per_span=<c>]
// With --threads T > 1, T worker_threads each run spans/T (ns_per_span = wall / total spans).
//
//   node node_spans.mjs [--spans N] [--threads T] [--warmup N]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'interop', 'node', 'package.json'));
const { BasicTracerProvider, BatchSpanProcessor, AlwaysOnSampler } = require('@opentelemetry/sdk-trace-base');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

class DiscardingExporter {
  export(spans, resultCallback) { resultCallback({ code: 0 }); }  // ExportResultCode.SUCCESS
  shutdown() { return Promise.resolve(); }
  forceFlush() { return Promise.resolve(); }
}

function makeSpans(tracer, n) {
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('bench-span');
    span.setAttribute('attr.int', i);
    span.setAttribute('attr.str', 'value');
    span.setAttribute('attr.bool', true);
    span.end();
  }
}

// Runs warm-up + n spans on this thread; resolves to elapsed ns of the measured part.
async function runHere(n, warmup, startSignal) {
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(new DiscardingExporter())],
  });
  const tracer = provider.getTracer('kiq.bench', '1.0');
  makeSpans(tracer, warmup);
  await provider.forceFlush();
  if (startSignal) await startSignal();
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  makeSpans(tracer, n);
  const elapsed = process.hrtime.bigint() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return { elapsed, provider, cpuNs: (cpu.user + cpu.system) * 1000 };
}

if (!isMainThread) {
  const { n, warmup } = workerData;
  const { elapsed, provider } = await runHere(n, warmup, () => new Promise((resolve) => {
    parentPort.once('message', resolve);
    parentPort.postMessage('ready');
  }));
  parentPort.postMessage({ elapsed: elapsed.toString() });
  await provider.shutdown();
} else {
  const spans = arg('--spans', 2_000_000);
  const threads = arg('--threads', 1);
  const warmup = arg('--warmup', 200_000);
  let ns;
  let cpu = null;  // process CPU time; only meaningful single-threaded
  if (threads === 1) {
    const { elapsed, provider, cpuNs } = await runHere(spans, warmup);
    ns = Number(elapsed);
    cpu = cpuNs;
    await provider.shutdown();
  } else {
    const per = Math.floor(spans / threads);
    const workers = Array.from({ length: threads }, () =>
      new Worker(fileURLToPath(import.meta.url), { workerData: { n: per, warmup } }));
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));  // all warm
    const start = process.hrtime.bigint();
    const done = workers.map((w) => new Promise((r) => w.once('message', r)));
    workers.forEach((w) => w.postMessage('go'));
    await Promise.all(done);
    ns = Number(process.hrtime.bigint() - start);
  }
  const total = threads === 1 ? spans : Math.floor(spans / threads) * threads;
  const cpuText = cpu === null ? '' : ` cpu_ns_per_span=${(cpu / total).toFixed(1)}`;
  console.log(`RESULT node-sdk threads=${threads} spans=${total} ns_per_span=${(ns / total).toFixed(1)}${cpuText}`);
}
