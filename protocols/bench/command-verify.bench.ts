// How much a receiver pays to accept a command: the full gate (size, JSON, schema,
// Ed25519 over RFC 8785 canonical JSON, validity, target, replay, body schema) against
// the baseline of a bare Ed25519 verification of the same bytes with node:crypto.
import { verify } from 'node:crypto';
import {
  CommandSigner,
  CommandVerifier,
  counterSequence,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  signingInput,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '../src/index.js';

const SHA = (n: number) => n.toString(16).padStart(64, '0');

export default async function commandVerify(options: Record<string, string>) {
  const n = Number(options.n ?? 20_000);
  const items = Number(options.items ?? 40);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(items) || items < 1)
    throw new Error('--n and --items must be positive integers');
  const jwk = generateSigningKey();
  const key = loadSigningKey(jwk);
  const keys = new TrustedKeySet([trustedKeyFor(jwk)]);
  const now = Date.now();
  const signer = new CommandSigner({ issuer: 'bench', key, nextSeq: counterSequence(), now: () => now });
  const commune = { level: 'commune' as const, areaCode: '02707' };
  const areas = [commune];
  const topic = topics.areaCommand(commune.level, commune.areaCode);

  // A week's provision for one commune: `items` items in Vietnamese and Hmong.
  const body = {
    revision: 1,
    horizonStart: now,
    horizonEnd: now + 7 * 86_400_000,
    items: Array.from({ length: items }, (_, i) => ({
      itemId: `occ-${i}`,
      priority: 'normal' as const,
      startMode: 'next' as const,
      volume: 80,
      repeat: 1,
      prelude: 'chime' as const,
      startAt: now + i * 3_600_000,
      segments: [
        { language: 'vie' as const, sha256: SHA(2 * i), durationMs: 60_000 },
        { language: 'hmn' as const, sha256: SHA(2 * i + 1), durationMs: 70_000 },
      ],
    })),
    assets: Array.from({ length: 2 * items }, (_, i) => ({
      sha256: SHA(i),
      url: `/assets/${SHA(i)}`,
      bytes: 200_000,
      durationMs: 60_000,
      mime: 'audio/ogg; codecs=opus' as const,
    })),
  };
  const payloads: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const env = await signer.sign({
      kind: 'schedule.provision',
      target: { type: 'area', ...commune },
      body,
      ttlMs: 3_600_000,
    });
    payloads.push(Buffer.from(JSON.stringify(env)));
  }
  const raw = payloads.map((p) => {
    const env = JSON.parse(p.toString()) as { sig: string };
    return { input: signingInput(env), sig: Buffer.from(env.sig, 'base64url') };
  });
  const publicKey = keys.lookup(key.keyId);
  if (!publicKey) throw new Error('key not found');

  const verifier = new CommandVerifier({
    keys,
    receiverId: 'rx-bench',
    areas,
    replay: new ReplayGuard({ maxEntriesPerIssuer: n + 1 }),
    now: () => now,
  });
  const samplesMs: number[] = [];
  const baselineSamplesMs: number[] = [];
  let ok = 0;
  // Interleave gate and baseline so both see the same machine state.
  for (const [i, r] of raw.entries()) {
    let t = process.hrtime.bigint();
    verify(null, r.input, publicKey, r.sig);
    baselineSamplesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    if (verifier.verify(payloads[i] as Buffer, topic).ok) ok++;
    samplesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const totalMs = samplesMs.reduce((a, b) => a + b, 0);
  return {
    n,
    samplesMs,
    baselineSamplesMs,
    okFraction: ok / n,
    extra: {
      payload_bytes: payloads[0]?.length,
      items_per_command: items,
      verifications_per_s: Math.round((n / totalMs) * 1000),
    },
  };
}
