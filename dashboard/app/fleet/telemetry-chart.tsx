import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTranslation } from 'react-i18next';
import { formatTime, VIETNAM_TZ } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';

export interface ChartSeries {
  /** Unix seconds, ascending. */
  times: number[];
  /** One value per time; null where the receiver did not report it (a gap in the line). */
  values: Array<number | null>;
}

export interface TelemetryChartProps {
  title: string;
  unit: string;
  series: ChartSeries;
  /** The period shown (Unix seconds), the whole of it even where there are no reports. */
  window: readonly [number, number];
  /** A warning line (weak signal, low battery), drawn dashed. */
  threshold?: number;
  /** Fixed y range (battery: 0–100). */
  range?: [number, number];
  colour: string;
}

const HEIGHT = 170;

/**
 * One reading over time (uPlot on a canvas). Ticks fall on Vietnamese hours whatever the
 * browser's time zone; the same facts are written under the chart in words.
 */
export function TelemetryChart({ title, unit, series, window, threshold, range, colour }: TelemetryChartProps) {
  const { t } = useTranslation('fleet');
  const language = useLanguage();
  const holder = useRef<HTMLDivElement>(null);
  const present = series.values.filter((v): v is number => v !== null);
  const [low, high] = range ?? [];
  const [start, end] = window;

  useEffect(() => {
    const element = holder.current;
    if (!element || present.length === 0) return;
    // The window's ends as points without a reading, so the warning line spans all of it.
    const times = [start, ...series.times, end];
    const data: uPlot.AlignedData = [
      times,
      [null, ...series.values, null],
      ...(threshold === undefined ? [] : [times.map(() => threshold)]),
    ];
    const plot = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), VIETNAM_TZ),
        legend: { show: false },
        scales: {
          x: { time: true, range: [start, end] },
          ...(low !== undefined && high !== undefined ? { y: { range: [low, high] as [number, number] } } : {}),
        },
        axes: [{ values: (_u, splits) => splits.map((s) => formatTime(new Date(s * 1000), language)) }, { size: 48 }],
        series: [
          {},
          { label: title, stroke: colour, width: 2, points: { show: present.length <= 60, size: 5 } },
          ...(threshold === undefined
            ? []
            : [{ label: `${threshold}`, stroke: '#b00020', width: 1, dash: [6, 4], points: { show: false } }]),
        ],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, element.clientWidth), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, start, end, threshold, low, high, colour, title, language, present.length]);

  const round = (v: number) => `${Math.round(v * 10) / 10} ${unit}`;
  const last = present[present.length - 1];
  return (
    <figure className="telemetry-chart">
      <figcaption>
        <strong>{title}</strong>
        <span>
          {last === undefined
            ? t('chartNoValues')
            : t('chartSummary', {
                last: round(last),
                min: round(Math.min(...present)),
                max: round(Math.max(...present)),
                n: present.length,
              })}
        </span>
      </figcaption>
      {present.length > 0 && <div ref={holder} className="telemetry-canvas" aria-hidden="true" />}
    </figure>
  );
}
