// Send the spans of spans.mjs with OpenTelemetry JS's own Zipkin exporter, which writes Zipkin
// v2 JSON its way (attribute values and resource attributes as string tags, status in
// otel.status_code and error, timestamps in fractional microseconds); print the JSON it posted.
// A recording hop on loopback sees the body on its way to --endpoint.
// usage: node export_zipkin_otel.mjs --endpoint http://host:port/api/v2/spans
import http from 'node:http';
import { parseArgs } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { makeSpans } from './spans.mjs';

const { values } = parseArgs({ options: { endpoint: { type: 'string' } } });

const posted = [];
const recorder = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    posted.push(...JSON.parse(body.toString()));
    try {
      const answer = await fetch(values.endpoint, {
        method: 'POST',
        body,
        headers: { 'Content-Type': req.headers['content-type'] },
      });
      res.writeHead(answer.status);
      res.end(await answer.text());
    } catch (error) {
      res.writeHead(502);
      res.end(`could not reach ${values.endpoint}: ${error.message}`);
    }
  });
});
await new Promise((resolve) => recorder.listen(0, '127.0.0.1', resolve));

const { port } = recorder.address();
const exporter = new ZipkinExporter({ url: `http://127.0.0.1:${port}/api/v2/spans` });
const spans = await makeSpans();
const result = await new Promise((resolve) => exporter.export(spans, resolve));
await exporter.shutdown();
recorder.close();
if (result.code !== ExportResultCode.SUCCESS) {
  console.error(`export failed: ${result.error?.message ?? result.error}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(posted));
