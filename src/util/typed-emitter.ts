// A typed wrapper over EventEmitter. Event maps are exact interfaces (no index signature), so an
// event name that is not in the map does not compile. Listener errors are caught and logged, never
// allowed to propagate into the emitter (a broken status-panel listener must not take the mixer down).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Event name → payload. Any interface: `object` keeps maps exact (a Record would need an index signature). */
export type EventMap = object;

/** The names of an event map. */
export type EventName<E extends EventMap> = keyof E & string;

export class TypedEmitter<E extends EventMap> {
  readonly #ee = new EventEmitter();
  readonly #log: Logger | undefined;

  constructor(log?: Logger) {
    this.#log = log;
    // Many observers (api, analytics, tests) may subscribe; the count is bounded by design, not by a warning.
    this.#ee.setMaxListeners(100);
  }

  on<K extends EventName<E>>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#ee.on(event, listener);
    return () => this.#ee.off(event, listener);
  }

  once<K extends EventName<E>>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#ee.once(event, listener);
    return () => this.#ee.off(event, listener);
  }

  off<K extends EventName<E>>(event: K, listener: (payload: E[K]) => void): void {
    this.#ee.off(event, listener);
  }

  /** Emits to every listener; one listener throwing does not stop the others. */
  emit<K extends EventName<E>>(event: K, payload: E[K]): void {
    for (const listener of this.#ee.listeners(event)) {
      try {
        (listener as (p: E[K]) => void)(payload);
      } catch (err) {
        if (this.#log) this.#log.error({ err, event }, 'event listener threw');
        else console.error(`event listener for ${event} threw`, err);
      }
    }
  }

  listenerCount<K extends EventName<E>>(event: K): number {
    return this.#ee.listenerCount(event);
  }

  removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }
}
