import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useLoad } from '../api/use-load.ts';
import { LoadStatus } from '../shell/status.tsx';
import { LOW_BATTERY_PCT, WEAK_SIGNAL_DBM } from './receiver-view.ts';
import { fetchTelemetry, type TelemetrySample } from './telemetry-api.ts';
import { type ChartSeries, TelemetryChart } from './telemetry-chart.tsx';

const DAY_MS = 24 * 3600_000;
/** A 10 s heartbeat makes 8,640 reports a day; the controller thins them evenly to this many. */
const LIMIT = 2000;
const REFRESH_MS = 60_000;

function seriesOf(samples: readonly TelemetrySample[], pick: (s: TelemetrySample) => number | null): ChartSeries {
  return { times: samples.map((s) => Date.parse(s.at) / 1000), values: samples.map(pick) };
}

/** Battery, signal and temperature over the last 24 hours, refreshed every minute. */
export function TelemetryCharts({ receiverId }: { receiverId: string }) {
  const { t } = useTranslation('fleet');
  const loaded = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - DAY_MS);
    const samples = await fetchTelemetry(receiverId, { from, to, limit: LIMIT });
    return { samples, window: [from.getTime() / 1000, to.getTime() / 1000] as const };
  }, [receiverId]);
  const { reload } = loaded;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const samples = loaded.data?.samples;
  const window = loaded.data?.window;
  const charts = useMemo(
    () =>
      samples && {
        battery: seriesOf(samples, (s) => s.batteryPct),
        signal: seriesOf(samples, (s) => s.rssiDbm),
        temperature: seriesOf(samples, (s) => s.temperatureC),
      },
    [samples],
  );

  return (
    <section className="receiver-section" aria-labelledby="charts-heading">
      <h2 id="charts-heading">{t('sectionCharts')}</h2>
      <LoadStatus loaded={loaded} />
      {samples && samples.length === 0 && <p>{t('chartsEmpty')}</p>}
      {charts && window && samples && samples.length > 0 && (
        <div className="telemetry-charts">
          <TelemetryChart
            title={t('chartBattery')}
            unit="%"
            series={charts.battery}
            window={window}
            threshold={LOW_BATTERY_PCT}
            range={[0, 100]}
            colour="#1d5fa8"
          />
          <TelemetryChart
            title={t('chartSignal')}
            unit="dBm"
            series={charts.signal}
            window={window}
            threshold={WEAK_SIGNAL_DBM}
            colour="#0b4f6c"
          />
          <TelemetryChart
            title={t('chartTemperature')}
            unit="°C"
            series={charts.temperature}
            window={window}
            colour="#ef6c00"
          />
        </div>
      )}
    </section>
  );
}
