import type { Telemetry } from '@loa/protocols';
import { Telemetry as TelemetrySchema, validate } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { FaultLatch, type FaultReport } from '../../src/health/fault-latch.js';
import { Heartbeat, type HeartbeatSources } from '../../src/health/heartbeat.js';

function sources(over: Partial<HeartbeatSources> = {}) {
  const clock = new ManualClock(Date.parse('2026-11-23T00:00:00Z'));
  const reports: FaultReport[] = [];
  const faults = new FaultLatch({ report: async (f) => void reports.push(f) });
  const s: HeartbeatSources = {
    receiverId: 'rx-02680-01-1',
    agentVersion: '0.3.0',
    firmware: async () => 'fw-2.1',
    clock,
    board: {
      temperatureC: async () => 52.5,
      power: async () => ({ mains: true, batteryPct: 95 }),
      disk: async () => ({ freeBytes: 5e9, totalBytes: 8e9 }),
      reboot: async () => {},
    },
    modem: { read: async () => ({ type: '3g', rssiDbm: -97, operator: 'Viettel' }) },
    faults,
    audio: () => ({ volume: 70, amplifierOn: true }),
    playing: () => ({ itemId: 'occ-1', priority: 'normal' }),
    cache: () => ({ assets: 3, bytesUsed: 3e6, bytesFree: 1e9 }),
    clockSync: () => ({ synced: true, offsetMs: 12.4 }),
    scheduleVersion: () => 7,
    ...over,
  };
  return { s, clock, reports, faults };
}

describe('heartbeat', () => {
  it('reports every health field in a valid Telemetry message, on its period', async () => {
    const { s, clock } = sources();
    const sent: Telemetry[] = [];
    const heartbeat = new Heartbeat(s, async (t) => void sent.push(t), 10_000);
    heartbeat.start();
    await clock.advance(25_000);
    heartbeat.stop();
    expect(sent).toHaveLength(3);
    const last = sent[2] as Telemetry;
    expect(validate(TelemetrySchema, last).ok).toBe(true);
    expect(last).toMatchObject({
      uptimeS: 20,
      firmware: 'fw-2.1',
      temperatureC: 52.5,
      network: { type: '3g', rssiDbm: -97 },
      power: { mains: true, batteryPct: 95 },
      audio: { volume: 70, amplifierOn: true },
      playing: { itemId: 'occ-1' },
      clock: { synced: true, offsetMs: 12 },
      scheduleVersion: 7,
      faults: [],
      // Its period, so the controller knows how long a silence from it means offline.
      intervalS: 10,
    });
    heartbeat.setPeriod(60_000);
    expect((await heartbeat.beat()).intervalS).toBe(60);
  });

  it('latches faults from readings once, clears them when the reading recovers, and still beats when a probe fails', async () => {
    let mains = false;
    const { s, reports, faults } = sources({
      board: {
        temperatureC: async () => 85,
        power: async () => ({ mains, batteryPct: 15 }),
        disk: async () => ({ freeBytes: 1e6, totalBytes: 8e9 }),
        reboot: async () => {},
      },
      modem: {
        read: async () => {
          throw new Error('AT+CSQ timed out');
        },
      },
    });
    const heartbeat = new Heartbeat(s, async () => {}, 10_000);
    const first = await heartbeat.beat();
    await heartbeat.beat();
    expect(first.faults).toEqual(['battery_low', 'mains_power_lost', 'modem_error', 'overheat', 'storage_full']);
    expect(first.network.type).toBe('unknown');
    expect(reports.filter((r) => r.state === 'raised')).toHaveLength(5);
    mains = true;
    await heartbeat.beat();
    expect(faults.has('mains_power_lost')).toBe(false);
    expect(reports.at(-1)).toEqual({ type: 'fault', code: 'mains_power_lost', state: 'cleared' });
  });
});
