/**
 * WebSocket text frames built once for many sockets (a room-wide notification): the bytes a
 * `ws` server writes for `ws.send(text)` without extensions — FIN + opcode 1, no mask (a
 * server never masks, RFC 6455 §5.1), 7-, 16- or 64-bit length, the UTF-8 payload — in one
 * Buffer that every recipient's socket is handed as is. `ws` itself frames per socket: it
 * measures the string, allocates a header and writes header and string apart, and the socket
 * encodes the string to UTF-8 again for every recipient.
 */

/** The frame of one text message, header and payload in one Buffer. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

/** Frames already built, per prepared notification (dropped with it). */
const frames = new WeakMap<object, Buffer>();

/** The frame of a prepared notification, built on first use and then shared. */
export function preparedFrame(prepared: { readonly text: string }): Buffer {
  let frame = frames.get(prepared);
  if (!frame) {
    frame = textFrame(prepared.text);
    frames.set(prepared, frame);
  }
  return frame;
}
