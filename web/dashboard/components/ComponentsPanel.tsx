// The machinery: every encoder and decoder with its state, uptime and restarts, each mount's encoder,
// the HTTPS certificate and its expiry, and the process (memory, CPU, event-loop delay). Anything
// unhealthy is marked and sorted to the top.
import { Fragment } from 'preact';
import { useRef } from 'preact/hooks';
import { bytes, dateTime, duration } from '../../shared/format.js';
import type { Status } from '../../shared/types.js';
import { memo } from '../../shared/memo.js';
import { ComponentColumns, DecodersTable } from './DecodersTable.js';

const CERT_WARN_DAYS = 14;
const LOOP_WARN_MS = 50;

/** The libraries an in-process MP3/Vorbis unit runs, from its name (`mp3-320k+vorbis-q6`: its encodes). */
function libraries(unit: string): string {
  const encodes = unit.split('+');
  return [encodes.some((e) => e.startsWith('mp3')) && 'LAME', encodes.some((e) => e.startsWith('vorbis')) && 'libvorbis']
    .filter(Boolean)
    .join(', ');
}

function ComponentsPanelView({ status, now }: { status: Status; now: number }) {
  const c = status.components;
  // CPU as a share of one core between two status reads.
  const prev = useRef<{ at: number; cpuMs: number } | null>(null);
  const cpu = useRef<number | null>(null);
  if (!prev.current || prev.current.at !== status.at) {
    if (prev.current && status.at > prev.current.at)
      cpu.current = ((c.process.cpuMs - prev.current.cpuMs) / (status.at - prev.current.at)) * 100;
    prev.current = { at: status.at, cpuMs: c.process.cpuMs };
  }
  const rows = [...c.supervised].sort((a, b) => Number(a.state === 'running') - Number(b.state === 'running'));
  const cert = c.certificate;
  const certDays = cert?.expiresAt != null ? (cert.expiresAt - now) / 86_400_000 : null;
  const certText = (): string => {
    if (!cert) return 'none (plain HTTP)';
    const error = cert.lastError ? ` · last attempt failed (${cert.lastError.reason}): ${cert.lastError.message}` : '';
    if (cert.state === 'none' || cert.expiresAt === null) return `none yet for ${cert.domains.join(', ')}${error}`;
    const when = certDays !== null && certDays < 0 ? 'expired' : `in ${Math.floor(certDays ?? 0)} days`;
    return `${cert.subject ?? cert.domains.join(', ')}, expires ${dateTime(cert.expiresAt)} (${when})${error}`;
  };
  const loopBad = c.process.eventLoopDelayP99Ms > LOOP_WARN_MS;
  const stopped = status.mounts.filter((m) => !m.encoderRunning);
  return (
    <section class="card" aria-labelledby="components-label">
      <h2 id="components-label">Components</h2>
      {stopped.length > 0 && (
        <p class="bad-text" role="alert">
          Encoder not running for {stopped.map((m) => m.mount).join(', ')}
        </p>
      )}
      <div class="table-wrap">
        <table class="components">
          <ComponentColumns />
          <thead>
            <tr>
              <th scope="col">Encoder</th>
              <th scope="col">State</th>
              <th scope="col">Uptime</th>
              <th scope="col">Restarts</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => {
              const bad = s.state !== 'running';
              return (
                <tr key={s.name} class={bad ? 'bad' : s.restarts > 0 ? 'warn' : ''}>
                  <th scope="row">
                    {/* One ffmpeg encodes every mount, so its name is seven keys joined by "+": let it wrap there. */}
                    {s.name.split('+').map((part, i) => (
                      <Fragment key={i}>
                        {i > 0 && (
                          <>
                            +<wbr />
                          </>
                        )}
                        {part}
                      </Fragment>
                    ))}
                    <span class="muted sub">
                      {s.kind}
                      {s.engine === 'fdk-aac'
                        ? ' · in-process (libfdk-aac)'
                        : s.engine === 'in-process'
                          ? ` · in-process (${libraries(s.name)})`
                          : s.pid !== null && ` · ffmpeg, pid ${s.pid}`}
                    </span>
                  </th>
                  <td>
                    <span class={`pill ${bad ? 'bad' : 'ok'}`}>{s.state}</span>
                  </td>
                  <td data-label="Uptime">{s.state === 'running' ? duration(s.uptimeMs) : '—'}</td>
                  <td data-label="Restarts">{s.restarts}</td>
                  <td class="err">{s.lastError ? `${dateTime(s.lastError.at)}: ${s.lastError.message}` : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <DecodersTable decoders={c.decoders} emergency={c.emergencyDecoder} at={status.at} />
      <dl class="facts two">
        <dt>HTTPS certificate</dt>
        <dd class={(certDays !== null && certDays < CERT_WARN_DAYS) || cert?.lastError || cert?.state === 'none' ? 'bad-text' : ''}>
          {certText()}
        </dd>
        <dt>Listening on</dt>
        <dd>
          {c.http.map((h) => `${h.protocol} ${h.port}`).join(', ')} · sources {c.sourcePorts.primary}/{c.sourcePorts.fallback}
        </dd>
        <dt>Memory</dt>
        <dd>
          {bytes(c.process.rssBytes)} resident · {bytes(c.process.heapUsedBytes)} heap
        </dd>
        <dt>CPU (Node)</dt>
        <dd>{cpu.current === null ? '…' : `${cpu.current.toFixed(1)} % of a core`}</dd>
        <dt>Event-loop delay</dt>
        <dd class={loopBad ? 'bad-text' : ''}>{c.process.eventLoopDelayP99Ms.toFixed(1)} ms p99</dd>
        <dt>Server</dt>
        <dd>
          up {duration(c.process.uptimeS * 1000)} · Node {c.process.nodeVersion} · live feed {c.live.clients} client
          {c.live.clients === 1 ? '' : 's'}
        </dd>
        <dt>HLS</dt>
        <dd>
          {status.hls.sessions} session{status.hls.sessions === 1 ? '' : 's'} ·{' '}
          {status.hls.tiers.map((t) => `${t.bitrate / 1000}k`).join('/')} · {status.hls.discontinuities} discontinuities
        </dd>
      </dl>
    </section>
  );
}

export const ComponentsPanel = memo(ComponentsPanelView);
