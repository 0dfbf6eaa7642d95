// Prometheus metrics (prom-client, its own registry: nothing global). Listener counts use
// icecast_exporter's names so existing Grafana boards work; everything else is antenna_*. Gauges are
// read from a snapshot at scrape time; counters of events come from Antenna.events.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AntennaSnapshot, EventSource } from '../app.js';
import type { Config } from '../config/load.js';
import { publicFront, publicOrigin } from '../http/public-front.js';
import type { AntennaEvents } from '../types/events.js';

const TIERS = ['primary', 'fallback', 'emergency'] as const;
const CONTENT_TYPE: Record<string, string> = { mp3: 'audio/mpeg', aac: 'audio/aac', vorbis: 'application/ogg' };

export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
  close(): void;
}

export function createMetrics(opts: {
  readonly events: EventSource<AntennaEvents>;
  readonly snapshot: () => AntennaSnapshot;
  readonly config: Pick<Config, 'mounts' | 'publicHostname' | 'publicHttpPort' | 'publicHttpsPort'>;
}): Metrics {
  const { events, config } = opts;
  const register = new Registry();
  // prom-client's nodejs_eventloop_lag_* come from its own monitorEventLoopDelay(), whose default 10 ms
  // resolution woke the process 100 times a second, most of them for nothing (issue 12 counts wake-ups).
  // Sampled once a second here; antenna_event_loop_delay_p99_seconds is the audio clock's, 50 a second.
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 1000 });
  // One snapshot per scrape, shared by every collect() below.
  let snap: AntennaSnapshot | undefined;
  const s = (): AntennaSnapshot => (snap ??= opts.snapshot());
  const codecOf = new Map(config.mounts.map((m) => [m.mount, m.codec]));

  new Gauge({
    name: 'icecast_listeners',
    help: 'The number of currently connected listeners (icecast_exporter compatible).',
    labelNames: ['listenurl', 'server_type'],
    registers: [register],
    collect() {
      this.reset();
      // A label names the mount, so it must not change with the transport of the scrape: always the
      // plain-HTTP URL, as icecast_exporter reports it.
      const origin = publicOrigin(publicFront(config, s().ports), 'http');
      for (const m of s().mounts.mounts) {
        const type = CONTENT_TYPE[codecOf.get(m.mount) ?? ''] ?? 'application/octet-stream';
        this.set({ listenurl: origin + m.mount, server_type: type }, m.listeners);
      }
    },
  });
  new Gauge({
    name: 'antenna_on_air',
    help: '1 for the tier on air, 0 for the others.',
    labelNames: ['tier'],
    registers: [register],
    collect() {
      for (const t of TIERS) this.set({ tier: t }, s().mixer.onAir === t ? 1 : 0);
    },
  });
  new Gauge({
    name: 'antenna_hold',
    help: '1 while an operator holds the programme on this tier.',
    labelNames: ['tier'],
    registers: [register],
    collect() {
      for (const t of ['fallback', 'emergency'] as const) this.set({ tier: t }, s().mixer.hold === t ? 1 : 0);
    },
  });
  const switches = new Counter({
    name: 'antenna_switches_total',
    help: 'Programme switches, by the tier switched to and the reason.',
    labelNames: ['to', 'reason'],
    registers: [register],
  });
  const restarts = new Counter({
    name: 'antenna_encoder_restarts_total',
    help: 'Encoder restarts decided by the supervisor.',
    labelNames: ['encoder'],
    registers: [register],
  });
  // What the alerts and analytics sinks did (issue 11): one counter per sink, target and outcome.
  const notifications = new Counter({
    name: 'antenna_notifications_total',
    help: 'Items handed to an outbound sink (pushover, webhook, posthog), by target and outcome (sent, retrying, failed, dropped…).',
    labelNames: ['sink', 'target', 'outcome'],
    registers: [register],
  });
  const alerts = new Counter({
    name: 'antenna_alerts_total',
    help: 'Alerts raised by the alert rules, by incident kind and phase (open, close).',
    labelNames: ['kind', 'phase'],
    registers: [register],
  });
  const perInput = (name: string, help: string, read: (i: AntennaSnapshot['inputs']['primary']) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['input'],
      registers: [register],
      collect() {
        for (const id of ['primary', 'fallback'] as const) this.set({ input: id }, read(s().inputs[id]));
      },
    });
  };
  perInput('antenna_source_connected', '1 while a studio source is connected to the input.', (i) => (i.source.state === 'idle' ? 0 : 1));
  perInput('antenna_input_available', '1 while the input may go on air (connected, delivering, not silent).', (i) =>
    i.mixer.available ? 1 : 0,
  );
  perInput('antenna_input_level_dbfs', 'RMS level of the input, dBFS.', (i) => i.mixer.levelDb);
  perInput('antenna_input_buffer_seconds', 'Jitter-buffer depth of the input.', (i) => i.mixer.buffer.depthMs / 1000);
  perInput('antenna_input_buffer_target_seconds', 'Jitter-buffer target of the input.', (i) => i.mixer.buffer.targetMs / 1000);
  perInput('antenna_input_underruns', 'Buffer underruns of the input since its source connected.', (i) => i.mixer.buffer.underruns);
  perInput(
    'antenna_input_drift_corrected_seconds',
    'Audio added (+) or removed (−) by rate correction since the source connected.',
    (i) => i.mixer.buffer.correctedMs / 1000,
  );
  perInput(
    'antenna_input_overflow_dropped_seconds',
    'Audio dropped since the source connected because it sent faster than it plays (the buffer was full).',
    (i) => i.mixer.buffer.overflowDroppedMs / 1000,
  );
  perInput('antenna_input_rate_ratio', 'Current playback-rate correction of the input (1 = none).', (i) => i.mixer.buffer.ratio);
  perInput('antenna_input_bytes_received', 'Bytes received from the input’s current source.', (i) => i.source.bytesIn);
  new Gauge({
    name: 'antenna_listener_slow_drops',
    help: 'Listeners dropped for falling behind, per mount, since start.',
    labelNames: ['mount'],
    registers: [register],
    collect() {
      for (const m of s().mounts.mounts) this.set({ mount: m.mount }, m.slowListeners);
    },
  });
  new Gauge({
    name: 'antenna_hls_sessions',
    help: 'HLS listener sessions.',
    registers: [register],
    collect() {
      this.set(s().hls.sessions);
    },
  });
  new Gauge({
    name: 'antenna_encoder_up',
    help: '1 while the encoder’s ffmpeg runs.',
    labelNames: ['encoder'],
    registers: [register],
    collect() {
      for (const e of s().encoders) this.set({ encoder: e.key }, e.running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'antenna_event_loop_delay_p99_seconds',
    help: "p99 event-loop delay of the process since start: how late the mixer's 20 ms frame timer fired.",
    registers: [register],
    collect() {
      this.set(s().process.eventLoopDelayP99Ms / 1000);
    },
  });
  new Gauge({
    name: 'antenna_mixer_skipped_frames',
    help: 'Mixer frames skipped because the event loop stalled, since start.',
    registers: [register],
    collect() {
      this.set(s().mixer.clockSkippedFrames);
    },
  });

  new Gauge({
    name: 'antenna_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate in use expires (Unix time); absent without TLS or before the first certificate.',
    labelNames: ['source'],
    registers: [register],
    collect() {
      this.reset();
      const t = s().tls;
      if (t?.expiresAt != null) this.set({ source: t.source }, Math.round(t.expiresAt / 1000));
    },
  });
  new Gauge({
    name: 'antenna_tls_certificate_renewal_failures',
    help: 'Failed certificate orders or file reloads since start.',
    registers: [register],
    collect() {
      this.set(s().tls?.failures ?? 0);
    },
  });

  const onSwitch = (p: AntennaEvents['switch']): void => switches.inc({ to: p.to, reason: p.reason });
  const onRestart = (p: AntennaEvents['encoder-restarted']): void => restarts.inc({ encoder: p.name });
  const onSink = (p: AntennaEvents['sink-outcome']): void =>
    notifications.inc({ sink: p.sink, target: p.target, outcome: p.outcome }, p.items);
  const onAlert = (p: AntennaEvents['alert-raised']): void => alerts.inc({ kind: p.kind, phase: p.phase });
  events.on('switch', onSwitch);
  events.on('encoder-restarted', onRestart);
  events.on('sink-outcome', onSink);
  events.on('alert-raised', onAlert);

  return {
    contentType: register.contentType,
    async render() {
      snap = undefined;
      try {
        return await register.metrics();
      } finally {
        snap = undefined;
      }
    },
    close() {
      events.off('switch', onSwitch);
      events.off('sink-outcome', onSink);
      events.off('alert-raised', onAlert);
      events.off('encoder-restarted', onRestart);
      register.clear();
    },
  };
}
