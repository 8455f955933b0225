import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useLanguage } from '../shell/language-switch.tsx';
import { faultText, lastSeenText, powerText, signalText, stateLabel } from './fleet-format.ts';
import { type Area, lowBattery, type Receiver, stateOf, telemetryOf, weakSignal } from './receiver-view.ts';

export interface FleetTableProps {
  receivers: readonly Receiver[];
  areas: ReadonlyMap<string, Area>;
  now: number;
}

/** One row per receiver; every state is written out, the colour only repeats it. */
export function FleetTable({ receivers, areas, now }: FleetTableProps) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  return (
    <div className="table-scroll">
      <table className="fleet-table card-table">
        <caption>{t('tableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('colReceiver')}</th>
            <th scope="col">{t('colVillage')}</th>
            <th scope="col">{t('colState')}</th>
            <th scope="col">{t('colFaults')}</th>
            <th scope="col">{t('colSignal')}</th>
            <th scope="col">{t('colPower')}</th>
            <th scope="col">{t('colVersion')}</th>
          </tr>
        </thead>
        <tbody>
          {receivers.map((r) => {
            const state = stateOf(r);
            const telemetry = telemetryOf(r);
            return (
              <tr key={r.id} className={`fleet-row row-${r.id} state-${state}`} data-state={state}>
                <th scope="row">
                  <Link to={`/fleet/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                  <small className="muted">{r.id}</small>
                </th>
                <td data-label={t('colVillage')}>{areas.get(r.villageCode)?.name ?? r.villageCode}</td>
                <td data-label={t('colState')}>
                  <span className={`state-badge state-${state}`}>{stateLabel(t, state)}</span>
                  {!r.online && <small>{lastSeenText(t, r.lastSeenAt, language, now)}</small>}
                </td>
                <td data-label={t('colFaults')}>
                  {r.faults.length === 0 ? (
                    <span className="muted">{t('noFaults')}</span>
                  ) : (
                    <ul className="fault-list">
                      {r.faults.map((code) => (
                        <li key={code} title={code}>
                          {faultText(t, code)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td data-label={t('colSignal')} className={weakSignal(telemetry) ? 'warn-text' : undefined}>
                  {signalText(t, telemetry)}
                </td>
                <td data-label={t('colPower')} className={lowBattery(telemetry) ? 'warn-text' : undefined}>
                  {powerText(t, telemetry)}
                </td>
                <td data-label={t('colVersion')}>
                  <small>{t('versionFirmware', { v: r.firmware ?? '—' })}</small>
                  <small>{t('versionAgent', { v: r.agentVersion ?? '—' })}</small>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
