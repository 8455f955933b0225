import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { TOPIC_ROOT, TOPIC_SPECS, WIRE_SCHEMAS } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../src/asyncapi/generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ERROR = 0; // DiagnosticSeverity.Error

describe('AsyncAPI document', () => {
  it('is valid AsyncAPI 3 with no errors', async () => {
    const text = readFileSync(join(root, 'asyncapi.yaml'), 'utf8');
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document?.version()).toBe('3.0.0');
  }, 60_000);

  it('describes every topic with its address, QoS, retain flag and payload', async () => {
    const { document } = await new Parser().parse(readFileSync(join(root, 'asyncapi.yaml'), 'utf8'));
    if (!document) throw new Error('no document');
    for (const spec of Object.values(TOPIC_SPECS)) {
      const channel = document.channels().get(spec.name);
      expect(channel?.address(), spec.name).toBe(`${TOPIC_ROOT}/${spec.pattern}`);
      const operation = document
        .operations()
        .all()
        .find((o) =>
          o
            .channels()
            .all()
            .some((c) => c.id() === spec.name),
        );
      const mqtt = operation?.bindings().get('mqtt')?.value() as { qos: number; retain: boolean };
      expect(mqtt, spec.name).toMatchObject({ qos: spec.qos, retain: spec.retain });
      expect(operation?.action()).toBe(spec.publisher === 'controller' ? 'send' : 'receive');
      expect(
        channel
          ?.messages()
          .all()
          .map((m) => m.id()),
      ).toEqual([spec.payload]);
    }
  }, 60_000);

  it('describes the event receipts the controller sends each receiver', async () => {
    const { document } = await new Parser().parse(readFileSync(join(root, 'asyncapi.yaml'), 'utf8'));
    const channel = document?.channels().get('receiverEventReceipts');
    expect(channel?.address()).toBe('loa/v1/rx/{receiverId}/events/receipts');
    const payload = channel?.messages().get('EventReceipts')?.payload()?.json() as {
      required: string[];
      properties: { eventIds: { minItems: number; maxItems: number } };
    };
    expect(payload.required).toEqual(expect.arrayContaining(['v', 'receiverId', 'eventIds', 'at']));
    expect(payload.properties.eventIds).toMatchObject({ minItems: 1, maxItems: 500 });
  }, 60_000);

  it('is up to date with the source, as are the JSON Schema files (run npm run generate)', () => {
    const files = generatedFiles();
    expect(files.size).toBe(Object.keys(WIRE_SCHEMAS).length + 2);
    for (const [path, text] of files) {
      expect(readFileSync(join(root, path), 'utf8'), path).toBe(text);
    }
  });
});
