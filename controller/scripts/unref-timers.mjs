// Preload for the Prisma CLI (NODE_OPTIONS="--import ./scripts/unref-timers.mjs").
// Prisma 6.19's wasm schema engine (engine: 'js') arms 10 s and 60 s setTimeout timers through
// its wasm-bindgen import and leaves them pending, so `prisma migrate ...` sits idle for up to
// a minute after finishing. Unref only timers created from wasm code: they are timeouts racing
// real I/O (a pending socket keeps the process alive anyway), so nothing is cut short.
const MIN_DELAY_MS = 1000;

function fromWasm() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 10;
  try {
    return (new Error().stack ?? '').includes('wasm://');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

for (const name of ['setTimeout', 'setInterval']) {
  const original = globalThis[name];
  globalThis[name] = function (callback, delay, ...args) {
    const timer = original.call(this, callback, delay, ...args);
    if (Number(delay) >= MIN_DELAY_MS && typeof timer?.unref === 'function' && fromWasm()) timer.unref();
    return timer;
  };
}
