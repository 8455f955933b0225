import type { AudioJob } from './api-types.ts';

/** What POST /assets or /recordings answered: the asset at once, or a job to follow. */
export type UploadAnswer =
  | { kind: 'asset'; sha256: string; durationMs: number }
  | { kind: 'job'; job: AudioJob }
  | { kind: 'refused'; status: number; detail: string; reason: string | undefined };

export interface Upload {
  done: Promise<UploadAnswer>;
  abort(): void;
}

/**
 * Sends a file with XMLHttpRequest, because fetch() cannot report upload progress in
 * browsers yet; `onProgress` gets 0–1 as the bytes leave. Same origin: the session cookie
 * goes along by itself.
 */
export function uploadAudio(
  path: '/assets' | '/recordings',
  file: Blob,
  filename: string,
  onProgress: (fraction: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadAnswer>((resolve, reject) => {
    xhr.open('POST', path);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const body = (xhr.response ?? {}) as {
        sha256?: string;
        durationMs?: number;
        job?: AudioJob | null;
        detail?: string;
        title?: string;
        reason?: string;
      };
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        if (body.sha256 && body.durationMs !== undefined)
          resolve({ kind: 'asset', sha256: body.sha256, durationMs: body.durationMs });
        else if (body.job) resolve({ kind: 'job', job: body.job });
        else reject(new Error(`HTTP ${xhr.status}`));
        return;
      }
      resolve({
        kind: 'refused',
        status: xhr.status,
        detail: body.detail ?? body.title ?? `HTTP ${xhr.status}`,
        reason: body.reason,
      });
    };
    xhr.onerror = () => reject(new Error('network'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    const form = new FormData();
    form.append('file', file, filename);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
