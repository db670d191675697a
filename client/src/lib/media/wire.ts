import type { types } from 'mediasoup-client';
import type { RtpCapabilities, RtpParameters } from '@tutti/protocol';

/**
 * The one conversion between the protocol's wire types and mediasoup-client's: the shapes
 * are the same, except that the protocol lists one RTP header extension more than
 * mediasoup-client's types do ('urn:ietf:params:rtp-hdrext:toffset', which mediasoup, the
 * server, knows). mediasoup-client skips extensions the browser does not offer, so the
 * value passes through as it is.
 */
export function fromServer(value: RtpCapabilities): types.RtpCapabilities;
export function fromServer(value: RtpParameters): types.RtpParameters;
export function fromServer(
  value: RtpCapabilities | RtpParameters,
): types.RtpCapabilities | types.RtpParameters {
  return value as types.RtpCapabilities | types.RtpParameters;
}
