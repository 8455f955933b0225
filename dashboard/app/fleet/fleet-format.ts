import type { FaultCode } from '@loa/protocols';
import type { TFunction } from 'i18next';
import { useEffect, useState } from 'react';
import type { Language } from '../i18n/strings.ts';
import { formatDateTime } from '../i18n/time.ts';
import type { ReceiverState, TelemetryNow } from './receiver-view.ts';
import { lowBattery, weakSignal } from './receiver-view.ts';

type T = TFunction<'fleet'>;

/** Re-renders every `everyMs`, for "3 minutes ago" texts. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function agoText(t: T, at: string, now: number): string {
  const s = Math.max(0, Math.round((now - new Date(at).getTime()) / 1000));
  if (s < 10) return t('justNow');
  if (s < 60) return t('agoSeconds', { n: s });
  if (s < 3600) return t('agoMinutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('agoHours', { n: Math.floor(s / 3600) });
  return t('agoDays', { n: Math.floor(s / 86400) });
}

export function lastSeenText(t: T, lastSeenAt: string | null, language: Language, now: number): string {
  if (!lastSeenAt) return t('lastSeenNever');
  return t('lastSeen', { time: formatDateTime(lastSeenAt, language), ago: agoText(t, lastSeenAt, now) });
}

export function stateLabel(t: T, state: ReceiverState): string {
  const labels = {
    online: t('stateOnline'),
    fault: t('stateFault'),
    offline: t('stateOffline'),
    disabled: t('stateDisabled'),
  } satisfies Record<ReceiverState, string>;
  return labels[state];
}

export function networkLabel(t: T, type: string | undefined): string {
  if (!type || type === 'unknown') return t('unknown');
  if (type === 'ethernet') return t('networkEthernet');
  if (type === 'wifi') return t('networkWifi');
  return type.toUpperCase();
}

export function signalText(t: T, telemetry: TelemetryNow): string {
  if (telemetry.rssiDbm === undefined)
    return telemetry.networkType ? networkLabel(t, telemetry.networkType) : t('unknown');
  const text = t('signal', { dbm: Math.round(telemetry.rssiDbm), type: networkLabel(t, telemetry.networkType) });
  return weakSignal(telemetry) ? `${text} — ${t('signalWeak')}` : text;
}

export function powerText(t: T, telemetry: TelemetryNow): string {
  const parts: string[] = [];
  if (telemetry.mains !== undefined) parts.push(telemetry.mains ? t('mains') : t('onBattery'));
  if (telemetry.batteryPct !== undefined) parts.push(t('batteryPct', { pct: Math.round(telemetry.batteryPct) }));
  if (lowBattery(telemetry)) parts.push(t('batteryLow'));
  return parts.length ? parts.join(', ') : t('unknown');
}

/** Every fault code the receivers latch, in words; a code from a newer agent still shows as itself. */
export function faultText(t: T, code: string): string {
  const words = {
    mains_power_lost: t('fault_mains_power_lost'),
    battery_low: t('fault_battery_low'),
    amplifier_fault: t('fault_amplifier_fault'),
    speaker_line_open: t('fault_speaker_line_open'),
    speaker_line_short: t('fault_speaker_line_short'),
    audio_device_error: t('fault_audio_device_error'),
    storage_error: t('fault_storage_error'),
    storage_full: t('fault_storage_full'),
    clock_unsynced: t('fault_clock_unsynced'),
    modem_error: t('fault_modem_error'),
    overheat: t('fault_overheat'),
    failed_to_sound: t('fault_failed_to_sound'),
  } satisfies Record<FaultCode, string>;
  return (words as Record<string, string>)[code] ?? t('faultUnknown', { code });
}

/** Bytes as MB/GB with one decimal, for storage. */
export function bytesText(bytes: number, language: Language): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const number = new Intl.NumberFormat(language === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 }).format(
    value,
  );
  return `${number} ${units[unit]}`;
}
