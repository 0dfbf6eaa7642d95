// The contracts between pipeline stages (ingest → mixer → encoders → {icecast-compat, hls}) and
// what observers (api, analytics) may read. Stages depend on these types, never on each other's internals.

/** The two studio inputs, by priority. */
export type InputId = 'primary' | 'fallback';
/** What can be on air, by priority. */
export type Tier = InputId | 'emergency';

export type AudioFormat = 'mp3' | 'aac' | 'ogg' | 'flac' | 'unknown';
export type SourceProtocol = 'icecast-source' | 'icecast-put' | 'shoutcast';

/** Who is connected to an input, as read from the source client's request. */
export interface SourceInfo {
  readonly inputId: InputId;
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly userAgent: string;
  readonly protocol: SourceProtocol;
  readonly mount: string;
  readonly format: AudioFormat;
  /** ice-* / icy-* / content-type headers as sent (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  readonly connectedAt: number;
}

/** Why an input is not available to the selector. */
export type UnavailableReason = 'disconnected' | 'connecting' | 'stalled' | 'silent';
/** Why the programme switched tier (`held`: an operator holds it on a lower tier; `released`: the hold ended). */
export type SwitchReason = UnavailableReason | 'returned' | 'startup' | 'held' | 'released';
/** A tier an operator may hold the programme on for maintenance (null: no hold). */
export type HoldTier = 'fallback' | 'emergency';

export type DisconnectReason = 'client-closed' | 'source-timeout' | 'replaced' | 'decoder-failed' | 'kicked' | 'shutdown';

/** What is on air with a chunk of programme audio: travels with the audio through every stage. */
export interface OnAirMeta {
  readonly title: string;
  readonly tier: Tier;
  /** Grows by one whenever title or tier changes, so consumers can detect a change cheaply. */
  readonly seq: number;
}

/** A chunk of the mixer's output: immutable, shared by every consumer. */
export interface ProgrammeChunk {
  /** PCM (types/pcm.ts), a whole number of mixer frames. */
  readonly pcm: Buffer;
  /** Index of the first sample since the mixer started; never resets while the process lives. */
  readonly firstSample: number;
  readonly meta: OnAirMeta;
}

export interface ProgrammeSource {
  /** Called for every chunk from now on, synchronously on the mixer's tick; keep it cheap. */
  subscribe(fn: (chunk: ProgrammeChunk) => void): () => void;
  readonly currentMeta: OnAirMeta;
}

export type Codec = 'mp3' | 'aac' | 'vorbis';

/** What an encoder produces: codec frames (MP3/ADTS) or whole Ogg pages, never a partial one. */
export interface EncodedChunk {
  readonly data: Buffer;
  readonly meta: OnAirMeta;
  /** Bumps when the encoder restarts: a new bitstream (Ogg: new chain; HLS: a discontinuity). */
  readonly generation: number;
  /** Codec frames in `data` (MP3 1152, AAC 1024 samples each); 0 for Ogg header pages. */
  readonly frames: number;
  /** PCM samples (per channel) the audio in `data` covers, 0 for Ogg header pages: durations for bursts and segments. */
  readonly samples: number;
  /**
   * End offset in `data` of each codec frame (MP3, ADTS) or of the Ogg page, ascending, the last one
   * `data.length`: consumers cut frames without parsing headers again (MP3/ADTS: one per frame).
   */
  readonly frameEnds: readonly number[];
  /** An Ogg page of a chain's headers (BOS, comment, setup): replayed to every listener joining that chain. */
  readonly oggHeader: boolean;
}

export interface EncoderSpec {
  readonly codec: Codec;
  /** bits per second for CBR/ABR codecs. */
  readonly bitrate?: number;
  /** Vorbis quality (-1..10) when no bitrate is given. */
  readonly quality?: number;
}

export interface EncodedStream {
  readonly key: string;
  readonly spec: EncoderSpec;
  subscribe(fn: (chunk: EncodedChunk) => void): () => void;
}

/** The ingest stage's events (defined with every other event map in ./events.ts). */
export type { IngestEvents } from './events.js';
