import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import type { AudioJob } from './api-types.ts';
import { type Upload, uploadAudio } from './audio-upload.ts';
import { useAudioJob } from './use-audio-job.ts';

export type AssetPhase = 'idle' | 'uploading' | 'processing' | 'ready' | 'refused' | 'error';

export interface AssetProcess {
  phase: AssetPhase;
  /** 0–1: the upload's bytes while uploading, the job's progress while processing. */
  progress: number;
  stage: string | null;
  asset: { sha256: string; durationMs: number } | null;
  /** The controller's words when it refused the audio or the job failed. */
  detail: string | undefined;
  reason: string | undefined;
  /** Sends a file (upload) or a recording, then follows its job to the asset. */
  send(path: '/assets' | '/recordings', file: Blob, filename: string): void;
  /** Follows a job started elsewhere (a speech preview). */
  follow(job: AudioJob): void;
  /** Takes a finished asset as it is. */
  take(sha256: string, durationMs: number): void;
  fail(detail: string, reason?: string): void;
  reset(): void;
}

/** An audio file's way to a stored asset: upload with progress, the job's progress, the result or the refusal. */
export function useAssetProcess(): AssetProcess {
  const [phase, setPhase] = useState<AssetPhase>('idle');
  const [progress, setProgress] = useState(0);
  const [asset, setAsset] = useState<{ sha256: string; durationMs: number } | null>(null);
  const [detail, setDetail] = useState<string>();
  const [reason, setReason] = useState<string>();
  const [started, setStarted] = useState<AudioJob | null>(null);
  const upload = useRef<Upload | null>(null);
  const round = useRef(0);
  const { job, error: jobError } = useAudioJob(started);

  const reset = useCallback(() => {
    round.current++;
    upload.current?.abort();
    upload.current = null;
    setPhase('idle');
    setProgress(0);
    setAsset(null);
    setDetail(undefined);
    setReason(undefined);
    setStarted(null);
  }, []);
  useEffect(() => () => upload.current?.abort(), []);

  const take = useCallback((sha256: string, durationMs: number) => {
    setAsset({ sha256, durationMs });
    setProgress(1);
    setPhase('ready');
  }, []);
  const fail = useCallback((why: string, code?: string) => {
    setDetail(why);
    setReason(code);
    setPhase(code ? 'refused' : 'error');
  }, []);
  const follow = useCallback((queued: AudioJob) => {
    setStarted(queued);
    setProgress(queued.progress);
    setPhase('processing');
  }, []);

  const send = useCallback(
    (path: '/assets' | '/recordings', file: Blob, filename: string) => {
      reset();
      const mine = ++round.current;
      setPhase('uploading');
      const sending = uploadAudio(path, file, filename, (fraction) => {
        if (round.current === mine) setProgress(fraction);
      });
      upload.current = sending;
      sending.done.then(
        (answer) => {
          if (round.current !== mine) return;
          upload.current = null;
          if (answer.kind === 'asset') take(answer.sha256, answer.durationMs);
          else if (answer.kind === 'job') follow(answer.job);
          else fail(answer.detail, answer.reason ?? `http-${answer.status}`);
        },
        (failure: unknown) => {
          if (round.current !== mine || (failure instanceof DOMException && failure.name === 'AbortError')) return;
          upload.current = null;
          if (failure instanceof Error && failure.message === 'network') fail('', 'network');
          else fail(errorMessage(failure));
        },
      );
    },
    [reset, take, follow, fail],
  );

  // The job's progress and end.
  useEffect(() => {
    if (!job || phase !== 'processing') return;
    setProgress(job.progress);
    if (job.state === 'refused' || job.state === 'failed') fail(job.detail ?? job.state, job.reason ?? job.state);
    else if (job.state === 'completed' && job.sha256) {
      const mine = round.current;
      const sha256 = job.sha256;
      must(api.GET('/assets/{sha256}/info', { params: { path: { sha256 } } })).then(
        (info) => {
          if (round.current === mine) take(sha256, info.durationMs);
        },
        (failure: unknown) => {
          if (round.current === mine) fail(errorMessage(failure));
        },
      );
    }
  }, [job, phase, take, fail]);
  useEffect(() => {
    if (jobError && phase === 'processing') fail(jobError);
  }, [jobError, phase, fail]);

  return {
    phase,
    progress,
    stage: job?.stage ?? null,
    asset,
    detail,
    reason,
    send,
    follow,
    take,
    fail,
    reset,
  };
}
