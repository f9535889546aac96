// One service instrumented with OpenTelemetry JS in a propagation chain: for each request it
// extracts the context with one propagator, makes a SERVER span, calls --next with a CLIENT
// span whose context it injects with the same propagator, and exports both spans over
// OTLP/HTTP protobuf. Prints {"url": ...} once it listens. It answers as a hop the propagation
// tester can walk: the echo answer's "service", "received" (the headers as they came) and
// "calls" (the headers it sent and the next hop's answer); with --plain-answer only
// {"service", "next_status"}, as any service would, so only a trace store shows the hop.
// usage: node propagation_hop.mjs --service NAME --propagator w3c|b3|b3multi|jaeger|xray|none
//          --next URL --otlp-endpoint URL [--no-inject] [--plain-answer]
// --propagator none is OTEL_PROPAGATORS=none: the context is neither read nor sent (each
// request starts a trace of its own); --no-inject reads it but calls on without it.
import http from 'node:http';
import { parseArgs } from 'node:util';
import {
  ROOT_CONTEXT,
  SpanKind,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

const { values } = parseArgs({
  options: {
    service: { type: 'string' },
    propagator: { type: 'string' },
    next: { type: 'string' },
    'otlp-endpoint': { type: 'string' },
    'no-inject': { type: 'boolean', default: false },
    'plain-answer': { type: 'boolean', default: false },
  },
});

const TRACE_PROPAGATORS = {
  w3c: () => new W3CTraceContextPropagator(),
  b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  jaeger: () => new JaegerPropagator(),
  xray: () => new AWSXRayPropagator(),
  none: null,
};
if (!(values.propagator in TRACE_PROPAGATORS)) {
  console.error(`unknown --propagator ${values.propagator}`);
  process.exit(2);
}
// Baggage travels as W3C baggage beside every trace format, as OpenTelemetry's defaults do
// (Jaeger's propagator carries its own uberctx- baggage as well).
const chosen = TRACE_PROPAGATORS[values.propagator];
const propagator = new CompositePropagator({
  propagators: chosen ? [chosen(), new W3CBaggagePropagator()] : [],
});

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': values.service }),
  spanProcessors: [
    new SimpleSpanProcessor(new OTLPTraceExporter({ url: values['otlp-endpoint'] })),
  ],
});
const tracer = provider.getTracer('spanscope.interop.hop');

/** Call --next with `headers`; what the echo answer says of a call. */
function callNext(headers) {
  const call = { url: values.next, sent: Object.entries(headers) };
  return new Promise((resolve) => {
    const request = http.get(values.next, { headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        call.status = response.statusCode;
        try {
          const answer = JSON.parse(Buffer.concat(chunks).toString());
          if (answer && typeof answer === 'object' && 'service' in answer && 'received' in answer) {
            call.answer = answer;
          }
        } catch {
          // not JSON: no answer to nest
        }
        resolve(call);
      });
    });
    request.on('error', (error) => {
      resolve({ ...call, error: `could not call ${values.next}: ${error.message}` });
    });
  });
}

const server = http.createServer(async (req, res) => {
  const incoming = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
  const span = tracer.startSpan(`${req.method} ${req.url}`, { kind: SpanKind.SERVER }, incoming);
  const here = trace.setSpan(incoming, span);
  const client = tracer.startSpan(`GET ${values.next}`, { kind: SpanKind.CLIENT }, here);
  const headers = {};
  if (!values['no-inject']) {
    propagator.inject(trace.setSpan(here, client), headers, defaultTextMapSetter);
  }
  const call = await callNext(headers);
  client.end();
  span.end();
  await provider.forceFlush();
  const received = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    received.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  const answer = values['plain-answer']
    ? { service: values.service, next_status: call.status ?? null }
    : { service: values.service, received, calls: [call] };
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(answer));
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/${values.service}`;
  process.stdout.write(`${JSON.stringify({ url })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => provider.shutdown().then(() => process.exit(0))));
}
