/** An answer the controller refused, with its problem+json detail. */
export class ControllerError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown,
  ) {
    super(detail);
  }
}

/**
 * The controller's HTTP API as a signed-in user sees it (session cookie). The simulator
 * drives the system only through this and MQTT, as the dashboard and receivers would.
 */
export class ControllerClient {
  #cookie = '';

  constructor(readonly baseUrl: string) {}

  async signIn(username: string, password: string): Promise<this> {
    const response = await fetch(new URL('/auth/login', this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) {
      const detail = ((await response.json().catch(() => null)) as { detail?: string } | null)?.detail;
      throw new ControllerError(
        response.status,
        `cannot sign in to the controller at ${this.baseUrl} as ${username}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
        null,
      );
    }
    this.#cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return this;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /**
   * Uploads audio (POST /assets) and waits for the pipeline to make the asset (Prefer:
   * wait); answers the stored asset's SHA-256 (not the upload's: it is normalised and
   * re-encoded) and duration.
   */
  async uploadAsset(bytes: Buffer, type = 'audio/ogg'): Promise<{ sha256: string; durationMs: number }> {
    const response = await fetch(new URL('/assets', this.baseUrl), {
      method: 'POST',
      headers: { cookie: this.#cookie, 'content-type': type, prefer: 'wait=120' },
      body: bytes,
    });
    const answer = (await this.#answer(response, 'POST /assets')) as { sha256?: string; durationMs?: number };
    if (response.status === 202 || !answer.sha256)
      throw new ControllerError(response.status, 'POST /assets: the audio job did not finish within 120 s', answer);
    return { sha256: answer.sha256, durationMs: answer.durationMs as number };
  }

  /**
   * The speech the controller's engine makes of a text, as it would air (POST
   * /speech/preview, waiting for the job): the asset's SHA-256. Speech is cached by
   * engine, voice and the words read, so the same words always answer the same asset.
   */
  async speechPreview(language: string, text: string): Promise<{ sha256: string; durationMs: number }> {
    const answer = await this.request<{ sha256?: string; durationMs?: number; job?: unknown }>(
      'POST',
      '/speech/preview',
      { language, text },
      { prefer: 'wait=60' },
    );
    if (!answer.sha256)
      throw new ControllerError(202, 'POST /speech/preview: the speech job did not finish within 60 s', answer);
    return { sha256: answer.sha256, durationMs: answer.durationMs as number };
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        cookie: this.#cookie,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await this.#answer(response, `${method} ${path}`)) as T;
  }

  async #answer(response: Response, what: string): Promise<unknown> {
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    if (!response.ok) {
      const detail = (parsed as { detail?: string } | null)?.detail ?? text.slice(0, 300);
      throw new ControllerError(response.status, `${what}: HTTP ${response.status}: ${detail}`, parsed);
    }
    return parsed;
  }
}
