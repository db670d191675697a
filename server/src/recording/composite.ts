import type { TrackFile } from './TrackWriter.ts';

const WIDTH = 960;
const HEIGHT = 540;
const FPS = 15;

/** Where tile `i` of `n` sits on the canvas: a near-square grid, even sizes. */
export function gridCell(i: number, n: number): { x: number; y: number; w: number; h: number } {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const w = Math.floor(WIDTH / cols / 2) * 2;
  const h = Math.floor(HEIGHT / rows / 2) * 2;
  return { x: (i % cols) * w, y: Math.floor(i / cols) * h, w, h };
}

/**
 * ffmpeg arguments for the composite: every video track as a tile of a grid (placed at its
 * start offset; gone once it ends), every audio track mixed (silence filled, delayed by its
 * offset), over a black canvas and silence lasting the whole recording. H.264 + AAC in MP4:
 * the one file anybody can play.
 */
export function compositeArgs(
  tracks: readonly TrackFile[],
  durationMs: number,
  out: string,
): string[] {
  const seconds = (durationMs / 1000).toFixed(3);
  const inputs: string[] = [];
  const filters: string[] = [
    `color=c=black:s=${WIDTH}x${HEIGHT}:r=${FPS}:d=${seconds}[base0]`,
    `anullsrc=r=48000:cl=stereo,atrim=duration=${seconds}[silence]`,
  ];
  const videos = tracks.filter((t) => t.kind === 'video');
  const audios = tracks.filter((t) => t.kind === 'audio');
  let input = 0;
  let base = 'base0';
  videos.forEach((t, i) => {
    inputs.push('-i', t.path);
    const { x, y, w, h } = gridCell(i, videos.length);
    const offset = (t.offsetMs / 1000).toFixed(3);
    filters.push(
      `[${input}:v]setpts=PTS-STARTPTS+${offset}/TB,fps=${FPS},` +
        `scale=${w}:${h}:force_original_aspect_ratio=decrease,` +
        `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,format=yuv420p[tile${i}]`,
      `[${base}][tile${i}]overlay=${x}:${y}:eof_action=pass[base${i + 1}]`,
    );
    base = `base${i + 1}`;
    input++;
  });
  const mixed = ['[silence]'];
  audios.forEach((t, i) => {
    inputs.push('-i', t.path);
    const delay = Math.max(0, Math.round(t.offsetMs));
    filters.push(`[${input}:a]aresample=async=1:first_pts=0,adelay=${delay}:all=1[a${i}]`);
    mixed.push(`[a${i}]`);
    input++;
  });
  filters.push(`${mixed.join('')}amix=inputs=${mixed.length}:duration=first:normalize=0[aout]`);
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...inputs,
    ...['-filter_complex', filters.join(';')],
    ...['-map', `[${base}]`, '-map', '[aout]', '-t', seconds],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '96k', '-threads', '2', '-movflags', '+faststart'],
    out,
  ];
}
