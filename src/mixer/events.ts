// The mixer's events and read-only snapshot shapes live with every other contract in src/types.
export type { MixerEvents } from '../types/events.js';
export type { MixerInputSnapshot, MixerSnapshot } from '../types/snapshots.js';
