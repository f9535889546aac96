// Send the spans of spans.mjs with an OpenTelemetry JS OTLP exporter; print the OTLP JSON of
// what was sent (the SDK's own JSON serializer) on stdout.
// usage: node export_otlp.mjs --protocol http/json|http/protobuf|grpc --endpoint URL
//          [--compression gzip]
import { parseArgs } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { makeSpans } from './spans.mjs';

const { values } = parseArgs({
  options: {
    protocol: { type: 'string' },
    endpoint: { type: 'string' },
    compression: { type: 'string', default: 'none' },
  },
});

async function exporterFor(protocol, url, compression) {
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url, compression });
  }
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url, compression });
  }
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url, compression });
  }
  throw new Error(`unknown --protocol ${protocol}`);
}

const exporter = await exporterFor(values.protocol, values.endpoint, values.compression);
const spans = await makeSpans();
const result = await new Promise((resolve) => exporter.export(spans, resolve));
await exporter.shutdown();
if (result.code !== ExportResultCode.SUCCESS) {
  console.error(`export failed: ${result.error?.message ?? result.error}`);
  process.exit(1);
}
process.stdout.write(Buffer.from(JsonTraceSerializer.serializeRequest(spans)));
