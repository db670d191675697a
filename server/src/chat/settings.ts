export interface ChatSettings {
  ratePerSecond: number;
  burst: number;
  maxLength: number;
  historyPageSize: number;
  /** A history page is trimmed to this many bytes (its newest messages; hasMore: true). */
  historyMaxBytes?: number;
  /** How long the bus may take to accept a message before the send fails (default 5 s). */
  publishTimeoutMs?: number;
  /**
   * A store task that waited longer than this in its room's queue (the store is hanging) is
   * refused with STORE_UNAVAILABLE instead of queueing behind another timeout (default 5 s).
   */
  queueWaitMs?: number;
}
