// Reads back what the packager serves: the ID3 tags and ADTS frames of a packed-audio segment or part,
// and aligned snapshots of every tier's media playlist (one blocking reload for the same part on each).
import { readAdtsHeader } from '../../src/codec/adts.js';
import { readId3, type Id3Frames } from '../../src/hls/id3.js';
import { getText } from './hls-server.js';
import { parseMedia, type ParsedMedia } from './hls-playlist.js';

export interface ScannedMedia {
  readonly frames: number;
  readonly tags: readonly Id3Frames[];
  /** Frame index (within the buffer) at which each tag sits. */
  readonly tagAt: readonly number[];
  readonly garbage: number;
}

export function scanPackedAudio(buf: Buffer): ScannedMedia {
  let off = 0;
  let frames = 0;
  let garbage = 0;
  const tags: Id3Frames[] = [];
  const tagAt: number[] = [];
  while (off < buf.length) {
    const tag = readId3(buf, off);
    if (tag) {
      tags.push(tag);
      tagAt.push(frames);
      off += tag.length;
      continue;
    }
    const h = readAdtsHeader(buf, off);
    if (!h) {
      garbage++;
      off++;
      continue;
    }
    frames++;
    off += h.length;
  }
  return { frames, tags, tagAt, garbage };
}

/** Every tier's playlist as of the same publish: a blocking reload for the next part on each. */
export async function alignedPlaylists(base: string, tiers: readonly string[]): Promise<ParsedMedia[]> {
  const first = parseMedia((await getText(`${base}/hls/${tiers[0] ?? ''}/index.m3u8`)).text);
  const hint = first.preloadHint?.URI ?? '';
  const m = /^(\d+)\.(\d+)\.aac$/.exec(hint);
  if (!m) throw new Error(`no preload hint in ${tiers[0] ?? ''}`);
  const q = `?_HLS_msn=${m[1] ?? ''}&_HLS_part=${m[2] ?? ''}`;
  const texts = await Promise.all(tiers.map((t) => getText(`${base}/hls/${t}/index.m3u8${q}`)));
  return texts.map((r) => parseMedia(r.text));
}
