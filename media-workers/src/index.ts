export {
  WorkerPool,
  resolveWorkerBin,
  DEFAULT_WORKER_BIN,
  type WorkerPoolOptions,
  type WorkerStatus,
  type PoolLogger,
} from './WorkerPool.ts';
export {
  mediaCodecs,
  listenInfosFromConfig,
  webRtcTransportOptions,
  type MediaSettings,
} from './mediaOptions.ts';
