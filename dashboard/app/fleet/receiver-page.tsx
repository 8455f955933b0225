import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { Forbidden } from '../shell/not-found.tsx';
import { areasWith, hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { ActionHistory } from './action-history.tsx';
import { DeviceLog } from './device-log.tsx';
import { FLEET_SEARCH_KEY } from './fleet-filter.ts';
import { useNow } from './fleet-format.ts';
import { PlaybackLog } from './playback-log.tsx';
import { ReceiverActions } from './receiver-actions.tsx';
import { ReceiverFaults, ReceiverPlace, ReceiverReadings, ReceiverState } from './receiver-summary.tsx';
import { TelemetryCharts } from './telemetry-charts.tsx';
import { useReceiver } from './use-receiver.ts';
import './fleet.css';

export function ReceiverPage() {
  const me = useMe();
  const { id } = useParams();
  if (!hasRole(me, 'technician', 'official', 'emergency')) return <Forbidden />;
  if (!id) return null;
  return <ReceiverView key={id} id={id} />;
}

function ReceiverView({ id }: { id: string }) {
  const { t } = useTranslation('fleet');
  const me = useMe();
  const live = useReceiver(id);
  const now = useNow(5000);
  const [round, setRound] = useState(0);
  const [awaitingLogs, setAwaitingLogs] = useState<{ commandId: string; since: number } | null>(null);
  const { receiver, areas } = live;
  const back = `/fleet${sessionStorage.getItem(FLEET_SEARCH_KEY) ? `?${sessionStorage.getItem(FLEET_SEARCH_KEY)}` : ''}`;

  // Actions are for technicians whose area holds the receiver (the controller checks it again).
  const technicianAreas = areasWith(me, 'technician');
  const canAct = areas.some((a) => technicianAreas.includes(a.code));
  const village = areas[0]?.name ?? receiver?.villageCode ?? '';

  return (
    <section className="receiver-page">
      <p>
        <Link to={back}>{t('backToFleet')}</Link>
      </p>
      {!receiver ? (
        <LoadStatus loaded={{ ...live, data: receiver }} />
      ) : (
        <>
          <h1>{receiver.name}</h1>
          <p className="muted">
            {t('receiverId', { id: receiver.id })} · {village}
          </p>
          <ReceiverState receiver={receiver} now={now} />
          {!receiver.enabled && <p className="warn-text">{t('disabledNote')}</p>}
          {live.error && (
            <p className="error" role="alert">
              {live.error}
            </p>
          )}
          <div className="receiver-grid">
            <div>
              <ReceiverFaults receiver={receiver} />
              {canAct ? (
                <ReceiverActions
                  receiver={receiver}
                  villageName={village}
                  onSent={(commandId, body) => {
                    setRound((r) => r + 1);
                    if (body.action === 'logs') setAwaitingLogs({ commandId, since: Date.now() });
                  }}
                />
              ) : (
                areas.length > 0 && <p className="muted">{t('actionsNotAllowed')}</p>
              )}
              {canAct && <ActionHistory receiverId={receiver.id} round={round} />}
            </div>
            <div>
              <ReceiverReadings receiver={receiver} />
              <ReceiverPlace receiver={receiver} areas={areas} />
            </div>
          </div>
          <TelemetryCharts receiverId={receiver.id} />
          <PlaybackLog receiverId={receiver.id} />
          {canAct && <DeviceLog receiverId={receiver.id} awaiting={awaitingLogs} />}
        </>
      )}
    </section>
  );
}
