// The spans every OTLP job sends: two services (resources), each with its own tracer scope;
// one trace whose spans form a tree across both services, plus a second trace a link points
// at. Attribute values of every type, events with and without attributes, links, an ERROR
// status with a message, every span kind, and start/end times with odd nanoseconds so a
// rounding to microseconds anywhere shows.
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

const EVERY_TYPE = {
  'text': 'grüße, 世界',
  'text.empty': '',
  'flag.on': true,
  'flag.off': false,
  'count': 42,
  'count.negative': -7,
  'count.biggest.safe': Number.MAX_SAFE_INTEGER,
  'ratio': 0.25,
  'ratio.negative': -1.5e-3,
  'list.text': ['a', 'b', ''],
  'list.flag': [true, false],
  'list.count': [1, 2, 3],
  'list.ratio': [0.5, 1.5],
  'list.empty': [],
  // an integral number past int64: JSON says intValue 18446744073709552000, protobuf a double
  'count.past.int64': 2 ** 64,
  // a JS number array holding integers and fractions goes out as intValue and doubleValue
  'list.numbers': [1, 1.5],
  // null members are allowed by the SDK and go out as an empty AnyValue
  'list.with.null': ['a', null, 'b'],
};

function provider(service, memory, spanLimits = {}) {
  return new BasicTracerProvider({
    spanLimits,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service,
      [ATTR_SERVICE_VERSION]: '1.2.3',
      'host.name': `${service}-1`,
      'deployment.replicas': 3,
    }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
}

/** A time `ms` milliseconds after `base` (epoch seconds), with `nanos` extra nanoseconds. */
function at(base, ms, nanos) {
  const total = ms * 1e6 + nanos;
  return [base + Math.floor(total / 1e9), total % 1e9];
}

/** Make the spans; returns the finished ReadableSpans and closes the providers. */
export async function makeSpans() {
  const memory = new InMemorySpanExporter();
  const frontend = provider('frontend', memory);
  // payments keeps 2 attributes a span, so a dropped count goes out too
  const payments = provider('payments', memory, { attributeCountLimit: 2 });
  const web = frontend.getTracer('shop.frontend', '4.5.6');
  const pay = payments.getTracer('shop.payments');
  const base = Math.floor(Date.now() / 1000) - 5;

  const other = web.startSpan('nightly batch', { startTime: at(base, 0, 1) });
  other.end(at(base, 1, 999));

  const root = web.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    startTime: at(base, 10, 123),
    attributes: EVERY_TYPE,
  });
  const rootContext = trace.setSpan(ROOT_CONTEXT, root);
  const client = web.startSpan(
    'charge card',
    {
      kind: SpanKind.CLIENT,
      startTime: at(base, 11, 7),
      links: [
        { context: other.spanContext(), attributes: { 'link.reason': 'batch', 'link.n': 2 } },
        { context: root.spanContext() },
      ],
    },
    rootContext,
  );
  // payments gets the client's context as from the wire, with a tracestate its spans keep
  const clientContext = trace.setSpanContext(ROOT_CONTEXT, {
    ...client.spanContext(),
    isRemote: true,
    traceState: createTraceState('shop=t61rcWkgMzE,vendor=1'),
  });
  const server = pay.startSpan(
    'Charge',
    {
      kind: SpanKind.SERVER,
      startTime: at(base, 12, 501),
      attributes: { 'rpc.system': 'grpc', 'rpc.method': 'Charge', 'over.the.limit': 'dropped' },
    },
    clientContext,
  );
  server.addEvent('exception', {
    'exception.type': 'CardDeclined',
    'exception.message': 'insufficient funds',
    'attempt': 3,
    'retryable': false,
  }, at(base, 13, 17));
  server.addEvent('no attributes', at(base, 13, 18));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined: insufficient funds' });
  const serverContext = trace.setSpan(clientContext, server);
  const produce = pay.startSpan(
    'publish payment.failed',
    {
      kind: SpanKind.PRODUCER,
      startTime: at(base, 14, 3),
      attributes: { 'messaging.system': 'kafka' },
    },
    serverContext,
  );
  produce.end(at(base, 15, 4));
  const consume = pay.startSpan(
    'process payment.failed',
    { kind: SpanKind.CONSUMER, startTime: at(base, 16, 5) },
    trace.setSpan(serverContext, produce),
  );
  consume.setStatus({ code: SpanStatusCode.OK });
  consume.end(at(base, 17, 6));
  server.end(at(base, 18, 999_999));
  client.end(at(base, 19, 1));
  root.setStatus({ code: SpanStatusCode.ERROR });
  root.end(at(base, 20, 0));

  // the exporter's shutdown forgets its spans: take them first
  const finished = memory.getFinishedSpans();
  await frontend.shutdown();
  await payments.shutdown();
  return finished;
}
