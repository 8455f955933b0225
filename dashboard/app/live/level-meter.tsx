import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LiveSpeaker } from './live-speaker.ts';

/** The meter's scale: −60 dBFS (as good as silence for speech) to 0 dBFS (full scale). */
export const FLOOR_DB = -60;
/** How fast the reading falls after a sound (like a broadcast meter: quick up, slow down). */
const RELEASE_DB_PER_S = 20;
const PEAK_HOLD_MS = 1000;
const CLIP_DB = -1;
const QUIET_DB = -50;

const toDb = (linear: number) => Math.max(FLOOR_DB, 20 * Math.log10(Math.max(linear, 1e-6)));
const percent = (db: number) => `${((db - FLOOR_DB) / -FLOOR_DB) * 100}%`;

interface Reading {
  level: number;
  peak: number;
}

/** The microphone's level (RMS, with the held peak), in dBFS, from the capture worklet ~20×/s. */
export function LevelMeter({ speaker }: { speaker: LiveSpeaker }) {
  const { t } = useTranslation('live');
  const [reading, setReading] = useState<Reading>({ level: FLOOR_DB, peak: FLOOR_DB });
  useEffect(() => {
    let level = FLOOR_DB;
    let peak = FLOOR_DB;
    let peakAt = 0;
    let last = performance.now();
    return speaker.onLevel(({ rms, peak: samplePeak }) => {
      const now = performance.now();
      const seconds = (now - last) / 1000;
      last = now;
      level = Math.max(toDb(rms), level - RELEASE_DB_PER_S * seconds);
      const peakDb = toDb(samplePeak);
      if (peakDb >= peak || now - peakAt > PEAK_HOLD_MS) {
        peak = peakDb;
        peakAt = now;
      }
      setReading({ level, peak: Math.max(peak, level) });
    });
  }, [speaker]);
  // Written with a true minus sign, as the scale is.
  const level = String(Math.round(reading.level)).replace('-', '−');
  const peak = String(Math.round(reading.peak)).replace('-', '−');
  const verdict =
    reading.peak >= CLIP_DB ? 'levelTooLoud' : reading.peak < QUIET_DB ? 'levelQuiet' : ('levelGood' as const);
  return (
    <div className="level-meter">
      <span id="live-level-label" className="level-label">
        {t('levelLabel')}
      </span>
      <div className="level-bar">
        <meter
          aria-labelledby="live-level-label"
          min={FLOOR_DB}
          max={0}
          low={-40}
          high={-6}
          optimum={-18}
          value={reading.level}
          aria-valuetext={t('levelValue', { level, peak })}
        />
        <div className="level-peak" aria-hidden="true" style={{ left: `calc(${percent(reading.peak)} - 2px)` }} />
        <div className="level-scale" aria-hidden="true">
          <span style={{ left: percent(-40) }}>−40</span>
          <span style={{ left: percent(-20) }}>−20</span>
          <span style={{ left: percent(-6) }}>−6</span>
        </div>
      </div>
      <p className={`level-verdict ${verdict}`}>
        <span className="level-numbers">{t('levelValue', { level, peak })}</span> — {t(verdict)}
      </p>
    </div>
  );
}
