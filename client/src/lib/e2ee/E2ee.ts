import type { FrameKind } from './frame.ts';
import type { DecryptState, FromWorker, ToWorker, TransformOptions } from './messages.ts';

/** Whether this browser can run E2EE rooms (WebRTC Encoded Transform in a worker). */
export function e2eeSupported(): boolean {
  return typeof RTCRtpScriptTransform !== 'undefined' && typeof Worker !== 'undefined';
}

/** What a receiver reports: its decrypt state and the key epoch of the frames that open. */
export type DecryptReport = { state: DecryptState; epoch: number | null };

/**
 * One E2EE room's crypto in this tab: the transform worker (which alone holds the keys),
 * and the transforms put on every RTCRtpSender and RTCRtpReceiver before their first frame
 * (mediasoup-client's onRtpSender/onRtpReceiver run before the SDP is applied).
 */
export class E2ee {
  readonly #worker: Worker;
  readonly #roomId: string;
  /** The sender behind each receiver we decrypt (what a decrypt state is about). */
  readonly #senders = new Map<string, string>();
  /** Our member id: what our keys are bound to (a rejoin gives a new one). */
  selfId: string;

  constructor(
    roomId: string,
    selfId: string,
    onDecrypt: (consumerId: string, senderId: string, report: DecryptReport) => void,
  ) {
    this.#roomId = roomId;
    this.selfId = selfId;
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'tutti-e2ee',
    });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const { consumerId, state, epoch } = event.data;
      const senderId = this.#senders.get(consumerId);
      if (senderId !== undefined) onDecrypt(consumerId, senderId, { state, epoch });
    };
  }

  /** Hands the passphrase to the worker (it never goes to the server); again to change it. */
  setPassphrase(passphrase: string): void {
    this.#post({ type: 'passphrase', roomId: this.#roomId, passphrase });
  }

  /**
   * The room's key epoch (`e2ee.epoch`): senders switch to its keys. `reset` (a join answer):
   * taken even if lower than ours (that server's count restarted).
   */
  setEpoch(epoch: number, reset = false): void {
    this.#post({ type: 'epoch', epoch, reset });
  }

  encrypt(sender: RTCRtpSender, kind: FrameKind): void {
    this.#attach(sender, { operation: 'encrypt', kind, senderId: this.selfId });
  }

  decrypt(receiver: RTCRtpReceiver, kind: FrameKind, senderId: string, consumerId: string): void {
    this.#senders.set(consumerId, senderId);
    this.#attach(receiver, { operation: 'decrypt', kind, senderId, consumerId });
  }

  /** The receiver closed: its late reports are ignored. */
  forget(consumerId: string): void {
    this.#senders.delete(consumerId);
  }

  #post(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  #attach(to: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    to.transform = new RTCRtpScriptTransform(this.#worker, options);
  }

  close(): void {
    this.#worker.terminate();
  }
}
