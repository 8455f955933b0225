import { FaultProxy } from '../faults/fault-proxy.js';
import { FleetWorkers } from '../fleet/fleet-workers.js';
import type { RunHooks } from './scenario-runner.js';

/** The real parts a scenario runs on: fleets in worker processes, the TCP fault proxy. */
export function defaultRunHooks(extra: Pick<RunHooks, 'progress' | 'log'> = {}): RunHooks {
  return {
    ...extra,
    startFleet: async (request) =>
      FleetWorkers.start(request.specs, {
        processes: request.processes,
        settings: {
          mqttUrl: request.mqttUrl,
          controllerUrl: request.controllerUrl,
          trustedKeys: request.trustedKeys,
          heartbeatMs: request.heartbeatMs,
        },
        onProgress: request.onProgress,
      }),
    startProxy: async (brokerPort, areasOf) =>
      FaultProxy.start({ target: { host: '127.0.0.1', port: brokerPort }, areasOf }),
  };
}
