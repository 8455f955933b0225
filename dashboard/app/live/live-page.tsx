import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { loadAreas } from '../api/areas.ts';
import { useLoad } from '../api/use-load.ts';
import { formatTime } from '../i18n/time.ts';
import { useLanguage } from '../shell/language-switch.tsx';
import { Forbidden } from '../shell/not-found.tsx';
import { hasRole, type Me, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import { LevelMeter } from './level-meter.tsx';
import { LiveDeliveries } from './live-deliveries.tsx';
import { LiveSpeaker } from './live-speaker.ts';
import { LiveStatus } from './live-status.tsx';
import { ProblemNotice } from './problem-notice.tsx';
import { PushToTalk, type TalkMode } from './push-to-talk.tsx';
import { OpenSessions, RecentSessions, useRecentSessions } from './recent-sessions.tsx';
import { SessionAccount } from './session-account.tsx';
import { defaultTargets, effectiveTargets, speakableAreas, TargetAreas } from './target-areas.tsx';
import './live.css';

/** A press shorter than this is a slip: it opens nothing, so no village hears a chime for it. */
const HOLD_MS = 300;
const MODE_KEY = 'loa.live.mode';
const LATENCIES = [250, 500, 1000, 2000] as const;

/** Live speech: officials and emergency staff (and admins) only; technicians cannot speak live. */
export function LivePage() {
  const me = useMe();
  if (!hasRole(me, 'official', 'emergency')) return <Forbidden />;
  return <LiveConsole me={me} />;
}

function LiveConsole({ me }: { me: Me }) {
  // Made in an effect so that leaving the page (or StrictMode's trial unmount) disposes of it:
  // the microphone closes and an open session ends.
  const [speaker, setSpeaker] = useState<LiveSpeaker>();
  useEffect(() => {
    const made = new LiveSpeaker();
    setSpeaker(made);
    return () => made.dispose();
  }, []);
  return speaker ? <Console me={me} speaker={speaker} /> : null;
}

function Console({ me, speaker }: { me: Me; speaker: LiveSpeaker }) {
  const { t } = useTranslation('live');
  const language = useLanguage();
  const state = useSyncExternalStore(speaker.subscribe, speaker.getSnapshot);
  const { phase } = state;
  const active = speaker.active;

  const areas = useLoad(() => loadAreas(), []);
  const speakable = useMemo(() => (areas.data ? speakableAreas(me, areas.data) : []), [me, areas.data]);
  const areaNames = useMemo(() => new Map((areas.data ?? []).map((a) => [a.id, a.name])), [areas.data]);
  const [chosen, setChosen] = useState<Set<string>>();
  useEffect(() => {
    if (!chosen && areas.data) setChosen(new Set(defaultTargets(speakable)));
  }, [chosen, areas.data, speakable]);
  const targets = effectiveTargets(speakable, chosen ?? new Set());

  const [title, setTitle] = useState('');
  const [chime, setChime] = useState(true);
  const [volume, setVolume] = useState(80);
  const [latencyMs, setLatencyMs] = useState<number>(250);
  const [mode, setMode] = useState<TalkMode>(() => (localStorage.getItem(MODE_KEY) === 'toggle' ? 'toggle' : 'hold'));
  const chooseMode = (next: TalkMode) => {
    localStorage.setItem(MODE_KEY, next);
    setMode(next);
  };

  const [round, setRound] = useState(0);
  const recent = useRecentSessions(round);
  // The list shows a session as it opens and as it ends.
  useEffect(() => {
    if (phase === 'waiting' || phase === 'on_air' || phase === 'ended') setRound((r) => r + 1);
  }, [phase]);

  // While speaking: the tab's title says so, and closing the tab asks first.
  useEffect(() => {
    if (!active) return;
    const before = document.title;
    if (phase === 'on_air') document.title = `● ${t('onAirShort')} — ${before}`;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => {
      document.title = before;
      window.removeEventListener('beforeunload', warn);
    };
  }, [active, phase, t]);

  const start = () =>
    void speaker.press(
      {
        title: title.trim() || t('defaultTitle', { time: formatTime(new Date(), language) }),
        areaIds: targets,
        prelude: chime ? 'chime' : 'none',
        volume,
        latencyMs,
      },
      mode === 'hold' ? HOLD_MS : 0,
    );
  const ready = targets.length > 0;

  return (
    <section className="live-page">
      <h1>{t('heading')}</h1>
      <p className="muted">{t('intro')}</p>
      <OpenSessions sessions={recent.data} ownId={state.session?.id} areaNames={areaNames} />

      <div className="live-columns">
        <form className="live-options" onSubmit={(event) => event.preventDefault()}>
          <fieldset disabled={active}>
            <legend>{t('optionsLegend')}</legend>
            <label>
              {t('titleLabel')}
              <input
                value={title}
                maxLength={200}
                placeholder={t('titlePlaceholder')}
                onChange={(event) => setTitle(event.target.value)}
              />
            </label>
            <LoadStatus loaded={areas} />
            {areas.data && <TargetAreas areas={speakable} chosen={chosen ?? new Set()} onChange={setChosen} />}
            <label className="inline-choice">
              <input type="checkbox" checked={chime} onChange={(event) => setChime(event.target.checked)} />{' '}
              {t('chimeLabel')}
            </label>
            <label>
              {t('volumeLabel', { volume })}
              <input
                type="range"
                min={0}
                max={100}
                step={5}
                value={volume}
                onChange={(event) => setVolume(Number(event.target.value))}
              />
            </label>
            <label>
              {t('latencyLabel')}
              <select value={latencyMs} onChange={(event) => setLatencyMs(Number(event.target.value))}>
                {LATENCIES.map((ms) => (
                  <option key={ms} value={ms}>
                    {t(`latency_${ms}`)}
                  </option>
                ))}
              </select>
            </label>
          </fieldset>
        </form>

        <div className="live-controls">
          <section className="live-microphone" aria-labelledby="live-mic-heading">
            <h2 id="live-mic-heading">{t('micHeading')}</h2>
            <p className="mic-state">
              {state.mic === 'on' ? t('micOn') : state.mic === 'opening' ? t('micOpening') : t('micOff')}{' '}
              {!active && state.mic === 'off' && (
                <button type="button" onClick={() => void speaker.testMicrophone()}>
                  {t('micTest')}
                </button>
              )}
              {!active && state.mic === 'on' && (
                <button type="button" onClick={() => speaker.closeMicrophone()}>
                  {t('micClose')}
                </button>
              )}
            </p>
            {state.mic === 'on' && <LevelMeter speaker={speaker} />}
          </section>

          <section className="live-talk" aria-labelledby="live-talk-heading">
            <h2 id="live-talk-heading">{t('talkHeading')}</h2>
            <PushToTalk mode={mode} phase={phase} ready={ready} onStart={start} onStop={() => speaker.release()} />
            <p id="live-ptt-hint" className="muted">
              {mode === 'hold' ? t('hintHold') : t('hintToggle')} {chime ? t('hintChime') : ''}
            </p>
            {!ready && !active && areas.data && <p className="warn-text">{t('chooseTargets')}</p>}
            <LiveStatus state={state} />
            {state.releasedEarly && <p className="muted">{t('releasedEarly')}</p>}
            {state.problem && (
              <ProblemNotice problem={state.problem} onConflictStopped={() => setRound((r) => r + 1)} />
            )}
            <fieldset className="talk-mode" disabled={active}>
              <legend>{t('modeLegend')}</legend>
              <label className="inline-choice">
                <input type="radio" name="talk-mode" checked={mode === 'hold'} onChange={() => chooseMode('hold')} />{' '}
                {t('modeHold')}
              </label>
              <label className="inline-choice">
                <input
                  type="radio"
                  name="talk-mode"
                  checked={mode === 'toggle'}
                  onChange={() => chooseMode('toggle')}
                />{' '}
                {t('modeToggle')}
              </label>
            </fieldset>
          </section>
        </div>
      </div>

      {state.session && (
        <LiveDeliveries key={state.session.id} sessionId={state.session.id} ended={phase === 'ended'} />
      )}
      {phase === 'ended' && state.session && <SessionAccount session={state.session} areaNames={areaNames} />}
      <RecentSessions loaded={recent} areaNames={areaNames} />
    </section>
  );
}
