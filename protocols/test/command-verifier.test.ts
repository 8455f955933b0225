import {
  type CommandEnvelope,
  CommandSigner,
  CommandVerifier,
  counterSequence,
  generateSigningKey,
  loadSigningKey,
  REFUSAL_REASONS,
  type RefusalReason,
  ReplayGuard,
  signDocument,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AREAS, issuer, item, NOW, provisionBody, RECEIVER } from './fixtures.js';

function verifierFor(keys: TrustedKeySet, now = NOW, replay = new ReplayGuard()) {
  return new CommandVerifier({ keys, receiverId: RECEIVER, areas: AREAS, replay, now: () => now });
}

const toReceiver = { type: 'receiver' as const, receiverId: RECEIVER };
const toCommune = { type: 'area' as const, level: 'commune' as const, areaCode: '02707' };

function reasonOf(result: ReturnType<CommandVerifier['verify']>): RefusalReason | 'ok' {
  return result.ok ? 'ok' : result.reason;
}

/** Re-signs a tampered envelope with a real key: isolates the check under test from the signature check. */
function resign(env: CommandEnvelope, changes: Partial<CommandEnvelope>, key: ReturnType<typeof issuer>['key']) {
  const { sig: _s, keyId: _k, ...rest } = env;
  return JSON.stringify(signDocument({ ...rest, ...changes }, key));
}

describe('signed commands', () => {
  it('accepts a fresh command for this receiver, with its body typed by kind', async () => {
    const { signer, keys } = issuer();
    const env = await signer.sign({
      kind: 'schedule.provision',
      target: toReceiver,
      body: provisionBody(),
      ttlMs: 3_600_000,
    });
    const result = verifierFor(keys).verify(JSON.stringify(env), topics.receiverCommand(RECEIVER));
    expect(result.ok).toBe(true);
    if (result.ok && result.command.kind === 'schedule.provision') {
      expect(result.command.body.items[0]?.segments.map((s) => s.language)).toEqual(['vie', 'hmn']);
    } else {
      throw new Error('expected a provision');
    }
  });

  it('accepts area commands for the village and each of its ancestors, and nothing else', async () => {
    const { signer, keys } = issuer();
    const verifier = verifierFor(keys);
    for (const area of AREAS) {
      const env = await signer.sign({
        kind: 'device.volume',
        target: { type: 'area', ...area },
        body: { volume: 50 },
        ttlMs: 60_000,
      });
      expect(reasonOf(verifier.verify(JSON.stringify(env), topics.areaCommand(area.level, area.areaCode)))).toBe('ok');
    }
    const neighbour = await signer.sign({
      kind: 'device.volume',
      target: { type: 'area', level: 'commune', areaCode: '02708' },
      body: { volume: 50 },
      ttlMs: 60_000,
    });
    expect(reasonOf(verifier.verify(JSON.stringify(neighbour)))).toBe('wrong_target');
    const otherReceiver = await signer.sign({
      kind: 'device.reboot',
      target: { type: 'receiver', receiverId: 'rx-0002' },
      body: {},
      ttlMs: 60_000,
    });
    expect(reasonOf(verifier.verify(JSON.stringify(otherReceiver)))).toBe('wrong_target');
  });

  it('refuses a command that arrives on a topic other than its target', async () => {
    const { signer, keys } = issuer();
    const env = await signer.sign({ kind: 'device.reboot', target: toCommune, body: {}, ttlMs: 60_000 });
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(env), topics.receiverCommand(RECEIVER)))).toBe(
      'wrong_topic',
    );
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(env), 'loa/v1/cmd/commune/02708'))).toBe('wrong_topic');
  });

  it('refuses replays, also after a restart from the saved replay state', async () => {
    const { signer, keys } = issuer();
    const replay = new ReplayGuard();
    const env = JSON.stringify(
      await signer.sign({ kind: 'stop', target: toReceiver, body: { upToPriority: 'priority' }, ttlMs: 60_000 }),
    );
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(env))).toBe('ok');
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(env))).toBe('replayed');
    const restored = ReplayGuard.fromJSON(JSON.parse(JSON.stringify(replay.toJSON())));
    expect(reasonOf(verifierFor(keys, NOW, restored).verify(env))).toBe('replayed');
  });

  it('refuses a re-signed command that reuses an issuer sequence number or an id', async () => {
    const { signer, keys, key } = issuer();
    const replay = new ReplayGuard();
    const first = await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: 10 }, ttlMs: 60_000 });
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(JSON.stringify(first)))).toBe('ok');
    const sameSeq = resign(first, { id: crypto.randomUUID(), body: { volume: 90 } }, key);
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(sameSeq))).toBe('replayed');
    const sameId = resign(first, { seq: 999, body: { volume: 90 } }, key);
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(sameId))).toBe('replayed');
  });

  it('accepts out-of-order sequences it has not seen, until they expire', async () => {
    const { keys, key } = issuer();
    const seqs = [5, 3, 9, 4];
    const signer = new CommandSigner({ issuer: 'province-10', key, nextSeq: () => seqs.shift() ?? 0, now: () => NOW });
    const replay = new ReplayGuard();
    for (let i = 0; i < 4; i++) {
      const env = await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: i }, ttlMs: 60_000 });
      expect(reasonOf(verifierFor(keys, NOW, replay).verify(JSON.stringify(env)))).toBe('ok');
    }
    expect(replay.size).toBe(4);
    expect(replay.prune(NOW + 61_000)).toBe(4);
    expect(replay.size).toBe(0);
  });

  it('after forgetting expired commands, refuses their sequences even if the clock jumps back', async () => {
    const { signer, keys } = issuer();
    const replay = new ReplayGuard();
    const env = JSON.stringify(
      await signer.sign({ kind: 'device.reboot', target: toReceiver, body: {}, ttlMs: 60_000 }),
    );
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(env))).toBe('ok');
    replay.prune(NOW + 120_000);
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(env))).toBe('stale_sequence');
  });

  it('bounds what it remembers per issuer', async () => {
    const { keys, key } = issuer();
    const signer = new CommandSigner({ issuer: 'i', key, nextSeq: counterSequence(), now: () => NOW });
    const replay = new ReplayGuard({ maxEntriesPerIssuer: 3 });
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const env = JSON.stringify(
        await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: i }, ttlMs: 60_000 }),
      );
      sent.push(env);
      expect(reasonOf(verifierFor(keys, NOW, replay).verify(env))).toBe('ok');
    }
    expect(replay.size).toBe(3);
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(sent[0] as string))).toBe('stale_sequence');
    expect(reasonOf(verifierFor(keys, NOW, replay).verify(sent[4] as string))).toBe('replayed');
  });

  it('refuses commands outside their validity window, allowing for clock skew', async () => {
    const { signer, keys } = issuer();
    const env = JSON.stringify(
      await signer.sign({ kind: 'device.reboot', target: toReceiver, body: {}, ttlMs: 60_000 }),
    );
    expect(reasonOf(verifierFor(keys, NOW + 60_000 + 30_000).verify(env))).toBe('expired');
    expect(reasonOf(verifierFor(keys, NOW + 60_000 + 29_000).verify(env))).toBe('ok');
    const later = JSON.stringify(
      await issuer().signer.sign({
        kind: 'device.reboot',
        target: toReceiver,
        body: {},
        ttlMs: 60_000,
        notBefore: NOW + 600_000,
      }),
    );
    const { keys: laterKeys } = issuer();
    expect(reasonOf(verifierFor(laterKeys).verify(later))).toBe('unknown_key');
  });

  it('refuses a not-yet-valid command, one issued in the future, and one claiming too long a life', async () => {
    const { signer, keys, key } = issuer();
    const scheduled = await signer.sign({
      kind: 'device.reboot',
      target: toReceiver,
      body: {},
      ttlMs: 60_000,
      notBefore: NOW + 600_000,
    });
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(scheduled)))).toBe('not_yet_valid');
    expect(reasonOf(verifierFor(keys, NOW + 600_000).verify(JSON.stringify(scheduled)))).toBe('ok');
    const future = new CommandSigner({ issuer: 'i', key, nextSeq: counterSequence(), now: () => NOW + 3_600_000 });
    const fromFuture = await future.sign({ kind: 'device.reboot', target: toReceiver, body: {}, ttlMs: 60_000 });
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(fromFuture)))).toBe('issued_in_future');
    const forever = await signer.sign({ kind: 'device.reboot', target: toReceiver, body: {}, ttlMs: 365 * 86_400_000 });
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(forever)))).toBe('lifetime_too_long');
    const inverted = resign(forever, { expiresAt: forever.notBefore }, key);
    expect(reasonOf(verifierFor(keys).verify(inverted))).toBe('malformed');
  });

  it('refuses unknown, revoked and retired keys; trusts several keys for rotation', async () => {
    const oldKey = generateSigningKey();
    const newKey = generateSigningKey();
    const sign = (jwk: typeof oldKey) =>
      new CommandSigner({ issuer: 'i', key: loadSigningKey(jwk), nextSeq: counterSequence(), now: () => NOW }).sign({
        kind: 'device.reboot',
        target: toReceiver,
        body: {},
        ttlMs: 60_000,
      });
    const both = new TrustedKeySet([trustedKeyFor(oldKey), trustedKeyFor(newKey)]);
    expect(reasonOf(verifierFor(both).verify(JSON.stringify(await sign(oldKey))))).toBe('ok');
    expect(reasonOf(verifierFor(both).verify(JSON.stringify(await sign(newKey))))).toBe('ok');
    const revoked = new TrustedKeySet([trustedKeyFor(oldKey, { revoked: true }), trustedKeyFor(newKey)]);
    expect(reasonOf(verifierFor(revoked).verify(JSON.stringify(await sign(oldKey))))).toBe('unknown_key');
    const retired = new TrustedKeySet([trustedKeyFor(oldKey, { notAfter: NOW - 1 })]);
    expect(reasonOf(verifierFor(retired).verify(JSON.stringify(await sign(oldKey))))).toBe('unknown_key');
    const onlyNew = new TrustedKeySet([trustedKeyFor(newKey)]);
    expect(reasonOf(verifierFor(onlyNew).verify(JSON.stringify(await sign(oldKey))))).toBe('unknown_key');
  });

  it('refuses a command signed by an untrusted key that claims a trusted keyId', async () => {
    const { keys, trusted } = issuer();
    const attacker = loadSigningKey(generateSigningKey());
    const forged = await new CommandSigner({
      issuer: 'i',
      key: { keyId: trusted.keyId, privateKey: attacker.privateKey },
      nextSeq: counterSequence(),
      now: () => NOW,
    }).sign({ kind: 'alert.cancel', target: toReceiver, body: { alertId: 'a-1' }, ttlMs: 60_000 });
    expect(reasonOf(verifierFor(keys).verify(JSON.stringify(forged)))).toBe('bad_signature');
  });

  it('refuses a signed command whose body does not fit its kind, and does not consume it', async () => {
    const { keys, key, signer } = issuer();
    const replay = new ReplayGuard();
    const env = await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: 50 }, ttlMs: 60_000 });
    const wrongBody = resign(env, { body: { volume: 500 } }, key);
    const result = verifierFor(keys, NOW, replay).verify(wrongBody);
    expect(reasonOf(result)).toBe('invalid_body');
    expect(result.ok ? '' : result.detail).toContain('/volume');
    expect(replay.size).toBe(0);
  });

  it('refuses junk with a reason: too large, malformed, unknown version', async () => {
    const { keys, signer } = issuer();
    const verifier = verifierFor(keys);
    expect(reasonOf(verifier.verify('x'.repeat(300 * 1024)))).toBe('too_large');
    expect(reasonOf(verifier.verify(''))).toBe('malformed');
    expect(reasonOf(verifier.verify('{"v":1'))).toBe('malformed');
    expect(reasonOf(verifier.verify('[]'))).toBe('malformed');
    expect(reasonOf(verifier.verify('null'))).toBe('malformed');
    expect(reasonOf(verifier.verify(new Uint8Array([0xff, 0xfe, 0x00])))).toBe('malformed');
    const env = await signer.sign({ kind: 'device.reboot', target: toReceiver, body: {}, ttlMs: 60_000 });
    expect(reasonOf(verifier.verify(JSON.stringify({ ...env, v: 2 })))).toBe('unsupported_version');
    const { sig: _sig, ...unsigned } = env;
    expect(reasonOf(verifier.verify(JSON.stringify(unsigned)))).toBe('malformed');
  });

  it('has a test for every refusal reason', () => {
    // Keep this list in step with the cases above when a reason is added.
    const covered: RefusalReason[] = [
      'too_large',
      'malformed',
      'unsupported_version',
      'unknown_key',
      'bad_signature',
      'not_yet_valid',
      'expired',
      'issued_in_future',
      'lifetime_too_long',
      'wrong_target',
      'wrong_topic',
      'replayed',
      'stale_sequence',
      'invalid_body',
    ];
    expect([...covered].sort()).toEqual([...REFUSAL_REASONS].sort());
  });

  it('refuses every single-byte change to a signed command', async () => {
    const { signer, keys } = issuer();
    const env = await signer.sign({
      kind: 'play.now',
      target: toCommune,
      body: { item: item({ priority: 'emergency', title: 'Lũ quét — sơ tán ngay' }), assets: [] },
      ttlMs: 60_000,
    });
    const bytes = Buffer.from(JSON.stringify(env), 'utf8');
    expect(reasonOf(verifierFor(keys).verify(bytes))).toBe('ok');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const mutated = Buffer.from(bytes);
        mutated[index] = ((mutated[index] as number) + delta) % 256;
        const result = verifierFor(keys).verify(mutated);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses every byte position changed, exhaustively for one command', async () => {
    const { signer, keys } = issuer();
    const env = await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: 40 }, ttlMs: 60_000 });
    const bytes = Buffer.from(JSON.stringify(env), 'utf8');
    for (let index = 0; index < bytes.length; index++) {
      for (const delta of [1, 2, 32, 128, 255]) {
        const mutated = Buffer.from(bytes);
        mutated[index] = ((mutated[index] as number) + delta) % 256;
        expect(verifierFor(keys).verify(mutated).ok, `byte ${index} +${delta}`).toBe(false);
      }
    }
  });

  it('never throws and never accepts, whatever bytes or JSON arrive', () => {
    const { keys } = issuer();
    const verifier = verifierFor(keys);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc.json().map((j) => Buffer.from(j)),
          fc.string(),
        ),
        (payload) => {
          expect(verifier.verify(payload).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses a valid-looking envelope with mutated fields, without throwing', async () => {
    const { keys, signer } = issuer();
    const env = await signer.sign({ kind: 'device.volume', target: toReceiver, body: { volume: 40 }, ttlMs: 60_000 });
    const fields = Object.keys(env);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.anything(), (field, value) => {
        const mutated = { ...env, [field]: value };
        if (JSON.stringify(mutated) === JSON.stringify(env)) return;
        let text: string;
        try {
          text = JSON.stringify(mutated);
        } catch {
          return; // not serialisable (BigInt, cycles): cannot travel on the wire
        }
        if (text === undefined) return;
        expect(verifierFor(keys).verify(text).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
