// Write the spans of spans.mjs to a file as the OTLP JSON the SDK's exporter posts (its own
// JsonTraceSerializer): one request, or with --jsonl one request a line (one per span, as a
// file exporter appending batch after batch writes). Prints the requests written, as a JSON
// array, on stdout.
// usage: node write_otlp_json.mjs --out FILE [--jsonl]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { makeSpans } from './spans.mjs';

const { values } = parseArgs({
  options: { out: { type: 'string' }, jsonl: { type: 'boolean', default: false } },
});
const spans = await makeSpans();
const batches = values.jsonl ? spans.map((span) => [span]) : [spans];
const requests = batches.map((batch) =>
  Buffer.from(JsonTraceSerializer.serializeRequest(batch)).toString(),
);
writeFileSync(values.out, values.jsonl ? `${requests.join('\n')}\n` : requests[0]);
process.stdout.write(`[${requests.join(',')}]`);
