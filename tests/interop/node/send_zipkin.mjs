// Record a small trace with zipkin-js (its HTTP client and server instrumentation, a local
// span, a producer and a consumer, tags and annotations) in two services and send it as
// Zipkin JSON with zipkin-transport-http (v2 unless --encoding v1, the transport's default);
// print {"sent": the JSON body it posted, "v2": zipkin-js's own v2 encoding of those spans}.
// usage: node send_zipkin.mjs --endpoint http://host:port/api/v2/spans [--encoding v1|v2]
//          [--trace-id-bits 128|64]   (64: zipkin-js's default)
import { parseArgs } from 'node:util';
import zipkin from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';

const { Annotation, BatchRecorder, ExplicitContext, Instrumentation, Tracer, jsonEncoder } = zipkin;
const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    encoding: { type: 'string', default: 'v2' },
    'trace-id-bits': { type: 'string', default: '128' },
  },
});

// Sent only when asked (processQueue below), so the body printed is the body posted.
const logger = new HttpLogger({
  endpoint: values.endpoint,
  jsonEncoder: values.encoding === 'v1' ? jsonEncoder.JSON_V1 : jsonEncoder.JSON_V2,
  httpInterval: 3_600_000,
});
const v2 = [];
const recorder = new BatchRecorder({
  logger: {
    logSpan(span) {
      v2.push(JSON.parse(jsonEncoder.JSON_V2.encode(span)));
      logger.logSpan(span);
    },
  },
  timeout: 3_600_000_000,
});
const ctxImpl = new ExplicitContext();
function tracer(service) {
  const traceId128Bit = values['trace-id-bits'] !== '64';
  return new Tracer({ ctxImpl, recorder, localServiceName: service, traceId128Bit });
}
const web = tracer('web-js');
const inventory = tracer('inventory-js');
const t0 = Date.now() * 1000 - 5_000_000; // µs, five seconds ago

// web-js serves GET /cart and calls inventory-js, which fails with 503.
const server = new Instrumentation.HttpServer({ tracer: web, port: 8080, host: '10.0.0.7' });
const noHeader = () => zipkin.option.None;
const cartId = server.recordRequest('GET', 'http://web.local/cart?user=7', noHeader);
web.recordBinary('cart.items', '3');
web.recordAnnotation(new Annotation.Message('cache miss'), t0 + 250);
const client = new Instrumentation.HttpClient({ tracer: web, remoteServiceName: 'inventory-js' });
const request = client.recordRequest({}, 'http://inventory.local/stock/42', 'get');
const callId = web.id;

// inventory-js joins the caller's span id (Zipkin's shared span) from the B3 headers.
const headers = Object.fromEntries(
  Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
);
inventory.scoped(() => {
  const stock = new Instrumentation.HttpServer({ tracer: inventory, port: 9411 });
  const id = stock.recordRequest('GET', 'http://inventory.local/stock/42', (name) =>
    zipkin.option.fromNullable(headers[name.toLowerCase()]),
  );
  inventory.local('load stock row', () => inventory.recordBinary('db.rows', '0'));
  inventory.setId(id);
  stock.recordResponse(id, 503);
});

web.scoped(() => {
  client.recordResponse(callId, 503);
  web.setId(cartId);
  // the failure goes on a queue: a producer here, a consumer in inventory-js
  web.setId(web.createChildId());
  const produced = web.id;
  web.recordServiceName('web-js');
  web.recordRpc('publish cart.failed');
  web.recordAnnotation(new Annotation.ProducerStart(), t0 + 1000);
  const kafka = { serviceName: 'kafka', host: new zipkin.InetAddress('10.0.0.9'), port: 9092 };
  web.recordAnnotation(new Annotation.MessageAddr(kafka));
  web.recordAnnotation(new Annotation.ProducerStop(), t0 + 1250);
  inventory.setId(inventory.createChildId());
  inventory.setId(new zipkin.TraceId({
    traceId: produced.traceId, parentId: new zipkin.option.Some(produced.spanId),
    spanId: inventory.id.spanId, sampled: new zipkin.option.Some(true),
  }));
  inventory.recordServiceName('inventory-js');
  inventory.recordRpc('consume cart.failed');
  inventory.recordAnnotation(new Annotation.ConsumerStart(), t0 + 2000);
  inventory.recordAnnotation(new Annotation.ConsumerStop(), t0 + 2500);
  web.setId(cartId);
  server.recordResponse(cartId, 502, new Error('inventory unavailable'));
});

const body = `[${logger.queue.join(',')}]`;
const answered = new Promise((resolve, reject) => {
  logger.on('success', resolve);
  logger.on('error', reject);
});
logger.processQueue(logger.fetchImplementation);
try {
  await answered;
} catch (error) {
  console.error(`sending failed: ${error.message}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify({ sent: JSON.parse(body), v2 }));
