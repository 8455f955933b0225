import { useEffect, useState } from 'react';
import { api } from '../api/client.ts';
import { useFleetEvents } from '../api/events.tsx';
import { must } from '../api/problem.ts';
import type { AudioJob } from './api-types.ts';

const POLL_MS = 1000;
export const isFinished = (job: AudioJob) =>
  job.state === 'completed' || job.state === 'refused' || job.state === 'failed';

/**
 * Follows an audio job (upload or speech) until it ends: its `audio.job` events as they
 * come, and GET /audio-jobs/{id} every second as well, since an event may have gone by
 * before the job's id was known (or while the WebSocket was reconnecting).
 */
export function useAudioJob(initial: AudioJob | null): { job: AudioJob | null; error: string | undefined } {
  const [job, setJob] = useState<AudioJob | null>(initial);
  const [error, setError] = useState<string>();
  useEffect(() => {
    setJob(initial);
    setError(undefined);
  }, [initial]);
  const id = initial?.id;
  useFleetEvents((event) => {
    if (event.type === 'audio.job' && event.job.id === id)
      setJob((current) => (current && isFinished(current) ? current : (event.job as AudioJob)));
  });
  const finished = job ? isFinished(job) : true;
  useEffect(() => {
    if (!id || finished) return;
    let stopped = false;
    const timer = setInterval(() => {
      must(api.GET('/audio-jobs/{id}', { params: { path: { id } } })).then(
        (answer) => {
          if (!stopped) setJob((current) => (current && isFinished(current) ? current : answer));
        },
        (failure: unknown) => {
          if (!stopped) setError(failure instanceof Error ? failure.message : String(failure));
        },
      );
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [id, finished]);
  return { job, error };
}
