// Tone analysis for tests and benchmarks: Goertzel power at a few frequencies over fixed windows of
// s16le stereo PCM (left channel), giving the dominant tone per window and its level.
export interface ToneWindow {
  /** Window start, in samples from the start of the analysed PCM. */
  readonly startSample: number;
  readonly dominant: number | null;
  /** RMS level of the window in dBFS. */
  readonly rmsDb: number;
  readonly powers: Readonly<Record<number, number>>;
}

export function goertzel(samples: Float32Array, freq: number, rate: number): number {
  const k = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (samples.length * samples.length);
}

/** Left channel of s16le stereo as floats. */
export function leftChannel(pcm: Buffer): Float32Array {
  const n = Math.floor(pcm.length / 4);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(i * 4) / 32768;
  return out;
}

export function analyseTones(pcm: Buffer, freqs: readonly number[], windowMs = 40, rate = 44_100, minDb = -45): ToneWindow[] {
  const left = leftChannel(pcm);
  const win = Math.round((windowMs * rate) / 1000);
  const out: ToneWindow[] = [];
  for (let start = 0; start + win <= left.length; start += win) {
    const w = left.subarray(start, start + win);
    let sum = 0;
    for (const x of w) sum += x * x;
    const rmsDb = sum > 0 ? 10 * Math.log10(sum / win) : -120;
    const powers: Record<number, number> = {};
    let best: number | null = null;
    let bestP = 0;
    for (const f of freqs) {
      const p = goertzel(w, f, rate);
      powers[f] = p;
      if (p > bestP) {
        bestP = p;
        best = f;
      }
    }
    // A tone dominates only if it carries most of the window's energy (p of a full-scale sine ≈ 0.25·A²).
    const dominant = rmsDb > minDb && best !== null && bestP * 2 > (sum / win) * 0.5 ? best : null;
    out.push({ startSample: start, dominant, rmsDb, powers });
  }
  return out;
}

/** Run-length summary of dominant tones: [{ tone, fromMs, toMs }]. */
export function toneRuns(windows: readonly ToneWindow[], windowMs = 40): { tone: number | null; fromMs: number; toMs: number }[] {
  const runs: { tone: number | null; fromMs: number; toMs: number }[] = [];
  windows.forEach((w, i) => {
    const last = runs[runs.length - 1];
    if (last && last.tone === w.dominant) last.toMs = (i + 1) * windowMs;
    else runs.push({ tone: w.dominant, fromMs: i * windowMs, toMs: (i + 1) * windowMs });
  });
  return runs;
}

/** Sine as s16le stereo PCM. */
export function sinePcm(freq: number, ms: number, amplitude = 0.5, rate = 44_100, phase0 = 0): Buffer {
  const n = Math.round((ms * rate) / 1000);
  const buf = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin(phase0 + (2 * Math.PI * freq * i) / rate));
    buf.writeInt16LE(v, i * 4);
    buf.writeInt16LE(v, i * 4 + 2);
  }
  return buf;
}
