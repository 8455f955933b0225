import { randomUUID } from 'node:crypto';
import {
  type AreaRef,
  type CommandBody,
  CommandSigner,
  counterSequence,
  generateSigningKey,
  loadSigningKey,
  type PlayableItem,
  type ReceiverState,
  type Telemetry,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';

export const SHA = 'a'.repeat(64);
export const NOW = Date.UTC(2026, 10, 22, 0, 0, 0); // 07:00 in Asia/Ho_Chi_Minh

export const RECEIVER = 'rx-0001';
export const AREAS: AreaRef[] = [
  { level: 'province', areaCode: '10' },
  { level: 'district', areaCode: '080' },
  { level: 'commune', areaCode: '02707' },
  { level: 'village', areaCode: '02707-05' },
];

export function item(overrides: Partial<PlayableItem> = {}): PlayableItem {
  return {
    itemId: 'occ-1',
    priority: 'normal',
    startMode: 'hard',
    volume: 80,
    repeat: 1,
    prelude: 'chime',
    segments: [
      { language: 'vie', sha256: SHA, durationMs: 30_000 },
      { language: 'hmn', sha256: 'b'.repeat(64), durationMs: 35_000 },
    ],
    ...overrides,
  };
}

export function provisionBody(): CommandBody<'schedule.provision'> {
  return {
    revision: 3,
    horizonStart: NOW,
    horizonEnd: NOW + 7 * 86_400_000,
    items: [{ ...item(), startAt: NOW + 3_600_000 }],
    assets: [{ sha256: SHA, url: `/assets/${SHA}`, bytes: 90_000, durationMs: 30_000, mime: 'audio/ogg; codecs=opus' }],
  };
}

export function receiverState(): ReceiverState {
  return { v: 1, receiverId: RECEIVER, online: true, at: NOW, reason: 'connected', agentVersion: '1.0.0' };
}

export function telemetry(): Telemetry {
  return {
    v: 1,
    receiverId: RECEIVER,
    at: NOW,
    uptimeS: 3600,
    agentVersion: '1.0.0',
    power: { mains: true, batteryPct: 98 },
    network: { type: '4g', rssiDbm: -87 },
    audio: { volume: 80, amplifierOn: false },
    playing: null,
    cache: { assets: 12, bytesUsed: 1_000_000, bytesFree: 500_000_000 },
    clock: { synced: true, offsetMs: 3.5 },
    faults: [],
  };
}

export function playEvent() {
  return {
    v: 1 as const,
    eventId: randomUUID(),
    receiverId: RECEIVER,
    at: NOW,
    type: 'play' as const,
    itemId: 'occ-1',
    source: 'schedule' as const,
    state: 'started' as const,
    priority: 'normal' as const,
    language: 'vie' as const,
  };
}

/** A controller key, the receiver's trust in it, and a signer with a fixed clock. */
export function issuer(now = NOW) {
  const jwk = generateSigningKey();
  const key = loadSigningKey(jwk);
  const trusted = trustedKeyFor(jwk);
  const signer = new CommandSigner({ issuer: 'province-10', key, nextSeq: counterSequence(1), now: () => now });
  return { jwk, key, trusted, keys: new TrustedKeySet([trusted]), signer };
}
