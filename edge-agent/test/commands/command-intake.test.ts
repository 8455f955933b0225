import {
  CommandSigner,
  CommandVerifier,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { type AckReport, CommandIntake } from '../../src/commands/command-intake.js';

const RX = 'rx-02680-01-1';
const AREAS = [
  { level: 'province' as const, areaCode: '10' },
  { level: 'commune' as const, areaCode: '02680' },
  { level: 'village' as const, areaCode: '02680-01' },
];
const trusted = generateSigningKey();
const stranger = generateSigningKey();

function signer(jwk = trusted, issuer = 'ctl') {
  let seq = 0;
  return new CommandSigner({ issuer, key: loadSigningKey(jwk), nextSeq: async () => ++seq });
}

function setup(options: { failPersist?: boolean } = {}) {
  const acks: AckReport[] = [];
  const order: string[] = [];
  const replay = new ReplayGuard();
  const intake = new CommandIntake({
    verifier: new CommandVerifier({
      keys: new TrustedKeySet([trustedKeyFor(trusted)]),
      receiverId: RX,
      areas: AREAS,
      replay,
    }),
    persistReplay: async () => {
      order.push('persist');
      if (options.failPersist) throw new Error('disk full');
    },
    handlers: {
      'device.volume': async (command) => {
        order.push(`volume ${command.body.volume}`);
        if (command.body.volume === 13) throw new Error('amplifier does not answer');
      },
    },
    report: async (ack) => {
      order.push(`ack ${ack.result}`);
      acks.push(ack);
    },
    onStorageError: () => order.push('storage fault'),
  });
  return { intake, acks, order, replay };
}

const volume = (value: number, s = signer(), target: object = { type: 'receiver', receiverId: RX }, ttlMs = 60_000) =>
  s.sign({ kind: 'device.volume', target: target as never, body: { volume: value }, ttlMs });
const bytes = (envelope: object) => Buffer.from(JSON.stringify(envelope));

describe('command intake', () => {
  it('acts on a verified command only after saving the replay state, and confirms it', async () => {
    const { intake, order, acks } = setup();
    const command = await volume(60);
    await intake.receive(topics.receiverCommand(RX), bytes(command));
    expect(order).toEqual(['persist', 'ack accepted', 'volume 60', 'ack done']);
    expect(acks[0]).toEqual({ type: 'ack', commandId: command.id, result: 'accepted' });
  });

  it('refuses forged, replayed, expired, mis-targeted and wrong-topic commands with their reason, never acting', async () => {
    const { intake, order, acks } = setup();
    const good = await volume(50);
    await intake.receive(topics.receiverCommand(RX), bytes(good));
    const cases: Array<[string, Buffer, string]> = [
      ['bad_signature', bytes({ ...(await volume(51)), body: { volume: 100 } }), topics.receiverCommand(RX)],
      ['unknown_key', bytes(await volume(52, signer(stranger))), topics.receiverCommand(RX)],
      ['replayed', bytes(good), topics.receiverCommand(RX)],
      [
        'wrong_target',
        bytes(await volume(53, signer(), { type: 'receiver', receiverId: 'rx-02680-01-2' })),
        topics.receiverCommand('rx-02680-01-2'),
      ],
      [
        'wrong_target',
        bytes(await volume(54, signer(), { type: 'area', level: 'commune', areaCode: '02683' })),
        topics.areaCommand('commune', '02683'),
      ],
      ['wrong_topic', bytes(await volume(55)), topics.areaCommand('commune', '02680')],
      ['malformed', Buffer.from('{"v":1,'), topics.receiverCommand(RX)],
    ];
    const expired = new CommandSigner({
      issuer: 'ctl',
      key: loadSigningKey(trusted),
      nextSeq: async () => 1000,
      now: () => Date.now() - 3_600_000,
    });
    cases.push(['expired', bytes(await volume(56, expired)), topics.receiverCommand(RX)]);
    for (const [, payload, topic] of cases) await intake.receive(topic, payload);
    expect(acks.slice(2).map((a) => [a.result, a.reason])).toEqual(cases.map(([reason]) => ['refused', reason]));
    expect(order.filter((o) => o.startsWith('volume'))).toEqual(['volume 50']);
    expect(acks.find((a) => a.reason === 'malformed')?.commandId).toBe('unknown');
  });

  it('reports a failed action with its cause', async () => {
    const { intake, acks } = setup();
    await intake.receive(topics.receiverCommand(RX), bytes(await volume(13)));
    expect(acks.map((a) => a.result)).toEqual(['accepted', 'failed']);
    expect(acks[1]?.detail).toBe('amplifier does not answer');
  });

  it('still acts when the replay state cannot be saved, and raises the storage fault', async () => {
    const { intake, order } = setup({ failPersist: true });
    await intake.receive(topics.receiverCommand(RX), bytes(await volume(40)));
    expect(order).toEqual(['persist', 'storage fault', 'ack accepted', 'volume 40', 'ack done']);
  });

  it('answers failed for kinds this agent does not carry out', async () => {
    const { intake, acks } = setup();
    const reboot = await signer().sign({
      kind: 'device.reboot',
      target: { type: 'receiver', receiverId: RX },
      body: {},
      ttlMs: 60_000,
    });
    await intake.receive(topics.receiverCommand(RX), bytes(reboot));
    expect(acks.map((a) => a.result)).toEqual(['accepted', 'failed']);
    expect(acks[1]?.detail).toMatch(/device.reboot is not supported/);
  });
});
