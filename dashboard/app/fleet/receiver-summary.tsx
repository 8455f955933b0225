import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../i18n/time.ts';
import { AreaMap, type MapArea, type MapReceiver } from '../map/area-map.tsx';
import { useLanguage } from '../shell/language-switch.tsx';
import { bytesText, faultText, lastSeenText, powerText, signalText, stateLabel } from './fleet-format.ts';
import { limitZoom } from './map-zoom.ts';
import { type Area, boundaryOf, type Receiver, STATE_COLOUR, stateOf, telemetryOf } from './receiver-view.ts';

/** Online state and last seen, as a line under the title; `now` ticks so "x s ago" moves. */
export function ReceiverState({ receiver, now }: { receiver: Receiver; now: number }) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const state = stateOf(receiver);
  return (
    <p className="receiver-state" role="status">
      <span className={`state-badge state-${state}`}>{stateLabel(t, state)}</span>{' '}
      <span>{lastSeenText(t, receiver.lastSeenAt, language, now)}</span>
    </p>
  );
}

export function ReceiverFaults({ receiver }: { receiver: Receiver }) {
  const { t } = useTranslation('fleet');
  return (
    <section className="receiver-section" aria-labelledby="faults-heading">
      <h2 id="faults-heading">{t('sectionFaults')}</h2>
      {receiver.faults.length === 0 ? (
        <p className="ok">{t('faultsNone')}</p>
      ) : (
        <ul className="fault-list alarm-list">
          {receiver.faults.map((code) => (
            <li key={code}>
              <strong>{faultText(t, code)}</strong> <code>{code}</code>
            </li>
          ))}
        </ul>
      )}
      <p className="muted">{t('faultsNote')}</p>
    </section>
  );
}

export function ReceiverReadings({ receiver }: { receiver: Receiver }) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const now = telemetryOf(receiver);
  if (!receiver.telemetry)
    return (
      <section className="receiver-section" aria-labelledby="now-heading">
        <h2 id="now-heading">{t('sectionNow')}</h2>
        <p>{t('noTelemetry')}</p>
      </section>
    );
  const rows: Array<[string, string]> = [
    [t('nowPower'), powerText(t, now)],
    [t('nowSignal'), `${signalText(t, now)}${now.operator ? ` · ${now.operator}` : ''}`],
    [t('nowTemperature'), now.temperatureC === undefined ? t('unknown') : t('temperature', { c: now.temperatureC })],
    [t('nowVolume'), now.volume === undefined ? t('unknown') : String(now.volume)],
    [
      t('nowAmplifier'),
      now.amplifierOn === undefined ? t('unknown') : now.amplifierOn ? t('amplifierOn') : t('amplifierOff'),
    ],
    ...(now.speakerLineOhm === undefined
      ? []
      : ([[t('nowSpeakerLine'), t('ohm', { ohm: now.speakerLineOhm })]] as Array<[string, string]>)),
    [
      t('nowCache'),
      now.cacheBytesFree === undefined
        ? t('unknown')
        : t('cacheFree', { free: bytesText(now.cacheBytesFree, language), assets: now.cacheAssets ?? 0 }),
    ],
    [
      t('nowClock'),
      now.clockSynced === undefined
        ? t('unknown')
        : now.clockSynced
          ? t('clockSynced', { ms: Math.round(now.clockOffsetMs ?? 0) })
          : t('clockUnsynced'),
    ],
    [
      t('nowUptime'),
      now.uptimeS === undefined
        ? t('unknown')
        : t('uptime', { h: Math.floor(now.uptimeS / 3600), m: Math.floor((now.uptimeS % 3600) / 60) }),
    ],
    [
      t('nowPlaying'),
      now.playing
        ? t('playingItem', { item: now.playing.itemId, priority: now.playing.priority })
        : t('playingNothing'),
    ],
  ];
  return (
    <section className="receiver-section" aria-labelledby="now-heading">
      <h2 id="now-heading">{t('sectionNow')}</h2>
      {now.at !== undefined && (
        <p className="muted">{t('measuredAt', { time: formatDateTime(new Date(now.at), language) })}</p>
      )}
      <dl className="readings">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

export function ReceiverPlace({ receiver, areas }: { receiver: Receiver; areas: readonly Area[] }) {
  const { t } = useTranslation('fleet');
  const state = stateOf(receiver);
  const hardware = receiver.hardware as { model?: unknown; amplifierW?: unknown; horns?: unknown };
  const marker = useMemo<MapReceiver[]>(
    () => [
      {
        id: receiver.id,
        name: receiver.name,
        latitude: receiver.latitude,
        longitude: receiver.longitude,
        colour: STATE_COLOUR[state],
        state,
      },
    ],
    [receiver.id, receiver.name, receiver.latitude, receiver.longitude, state],
  );
  const outlines = useMemo<MapArea[]>(
    () =>
      areas
        .filter((a) => boundaryOf(a))
        .slice(0, 2)
        .map((a) => ({ code: a.code, name: a.name, boundary: boundaryOf(a) })),
    [areas],
  );
  const rows: Array<[string, string]> = [
    [t('areaChain'), areas.length ? areas.map((a) => a.name).join(' › ') : receiver.villageCode],
    [t('position'), `${receiver.latitude.toFixed(5)}, ${receiver.longitude.toFixed(5)}`],
    [t('hardwareModel'), typeof hardware.model === 'string' ? hardware.model : t('unknown')],
    [
      t('hardwareAmplifier'),
      typeof hardware.amplifierW === 'number' ? t('watts', { w: hardware.amplifierW }) : t('unknown'),
    ],
    [t('hardwareHorns'), typeof hardware.horns === 'number' ? String(hardware.horns) : t('unknown')],
    [t('firmware'), receiver.firmware ?? t('unknown')],
    [t('agentVersion'), receiver.agentVersion ?? t('unknown')],
    [t('enabled'), receiver.enabled ? t('yes') : t('no')],
  ];
  return (
    <section className="receiver-section" aria-labelledby="place-heading">
      <h2 id="place-heading">{t('sectionPlace')}</h2>
      <dl className="readings">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <AreaMap areas={outlines} receivers={marker} className="receiver-map" onMap={limitZoom} />
    </section>
  );
}
