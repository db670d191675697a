import type {
  DtlsParameters,
  DtlsRole,
  IceCandidate,
  MediaKind,
  RtpParameters,
  TransportOptions,
} from '@tutti/protocol';

/**
 * The SDP glue between a mediasoup WebRtcTransport (described by the server as ICE + DTLS
 * parameters) and a libdatachannel PeerConnection in a bot, the same job mediasoup-client
 * does in a browser, reduced to what the bots use: BUNDLE, rtcp-mux, one SSRC per m-line.
 */

export interface LocalTransportInfo {
  iceUfrag: string;
  icePwd: string;
  fingerprint: { algorithm: string; value: string };
  setup: string | undefined;
}

/** Reads ICE credentials, the DTLS fingerprint and setup role out of a local SDP. */
export function parseLocalSdp(sdp: string): LocalTransportInfo {
  const line = (name: string): string | undefined => {
    const m = new RegExp(`^a=${name}:(.+)$`, 'm').exec(sdp);
    return m?.[1]?.trim();
  };
  const fp = line('fingerprint');
  const ufrag = line('ice-ufrag');
  const pwd = line('ice-pwd');
  if (!fp || !ufrag || !pwd) throw new Error('local SDP lacks ICE credentials or fingerprint');
  const [algorithm, value] = fp.split(' ');
  return {
    iceUfrag: ufrag,
    icePwd: pwd,
    fingerprint: { algorithm: algorithm!.toLowerCase(), value: value! },
    setup: line('setup'),
  };
}

/** DTLS parameters to send to the server: our role follows from our own a=setup. */
export function dtlsParametersFor(local: LocalTransportInfo, fallback: DtlsRole): DtlsParameters {
  const role: DtlsRole =
    local.setup === 'active' ? 'client' : local.setup === 'passive' ? 'server' : fallback;
  return {
    role,
    fingerprints: [
      {
        algorithm: local.fingerprint
          .algorithm as DtlsParameters['fingerprints'][number]['algorithm'],
        value: local.fingerprint.value,
      },
    ],
  };
}

function candidateLines(candidates: IceCandidate[]): string[] {
  // libjuice speaks ICE over UDP only; TCP candidates are left out.
  return candidates
    .filter((c) => c.protocol === 'udp')
    .map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address} ${c.port} typ host`);
}

function fingerprintLines(t: TransportOptions): string[] {
  // Offer every fingerprint mediasoup gives; libdatachannel checks the one matching its hash.
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  if (!fp) throw new Error('server offered no sha-256 fingerprint');
  return [`a=fingerprint:sha-256 ${fp.value}`];
}

export interface RemoteMedia {
  mid: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  /** Direction from the server's point of view. */
  direction: 'sendonly' | 'recvonly';
}

/**
 * A complete remote SDP for the server's side of one transport: an answer (send
 * transports: the bot offered) or an offer (recv transports: the server's consumers).
 */
export function remoteSdp(
  transport: TransportOptions,
  media: RemoteMedia[],
  opts: { type: 'offer' | 'answer'; version: number },
): string {
  const setup = opts.type === 'answer' ? 'passive' : 'actpass';
  const lines = [
    'v=0',
    `o=mediasoup 1000 ${opts.version} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${media.map((m) => m.mid).join(' ')}`,
    'a=msid-semantic: WMS *',
  ];
  for (const m of media) {
    const pts = m.rtpParameters.codecs.map((c) => c.payloadType);
    lines.push(
      `m=${m.kind} 7 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`,
      'c=IN IP4 127.0.0.1',
      `a=mid:${m.mid}`,
      `a=${m.direction}`,
      `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
      `a=ice-pwd:${transport.iceParameters.password}`,
      ...fingerprintLines(transport),
      `a=setup:${setup}`,
      'a=rtcp-mux',
      'a=rtcp-rsize',
    );
    for (const c of m.rtpParameters.codecs) {
      const [, name] = c.mimeType.split('/');
      const channels = c.channels && c.channels > 1 ? `/${c.channels}` : '';
      lines.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${channels}`);
      for (const fb of c.rtcpFeedback ?? []) {
        lines.push(
          `a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ' ' + fb.parameter : ''}`,
        );
      }
      const params = Object.entries(c.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`);
      if (params.length > 0) lines.push(`a=fmtp:${c.payloadType} ${params.join(';')}`);
    }
    for (const ext of m.rtpParameters.headerExtensions ?? []) {
      lines.push(`a=extmap:${ext.id} ${ext.uri}`);
    }
    if (m.direction === 'sendonly') {
      const cname = m.rtpParameters.rtcp?.cname ?? 'mediasoup';
      for (const e of m.rtpParameters.encodings ?? []) {
        if (e.ssrc !== undefined) {
          lines.push(`a=msid:tutti-${m.mid} tutti-track-${m.mid}`);
          lines.push(`a=ssrc:${e.ssrc} cname:${cname}`);
        }
        // RTX (chrome profile): announced like mediasoup-client does, FID-grouped.
        if (e.ssrc !== undefined && e.rtx?.ssrc !== undefined) {
          lines.push(`a=ssrc-group:FID ${e.ssrc} ${e.rtx.ssrc}`);
          lines.push(`a=ssrc:${e.rtx.ssrc} cname:${cname}`);
        }
      }
    }
    lines.push(...candidateLines(transport.iceCandidates), 'a=end-of-candidates');
  }
  return lines.join('\r\n') + '\r\n';
}
