// Listeners per mount and in total over time, drawn by uPlot (a canvas time-series chart of ~50 KB):
// the last hour live (the history's minutes, then the live feed's second-by-second counts), 24 hours,
// or 30 days (hourly peaks) from /api/listeners/history.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Api } from '../../shared/api.js';
import type { HistoryResponse, LiveListeners } from '../../shared/types.js';
import { memo } from '../../shared/memo.js';

type Range = '1h' | '24h' | '30d';
const MINUTES: Record<Range, number> = { '1h': 60, '24h': 1440, '30d': 43200 };
const stepped = uPlot.paths.stepped?.({ align: 1 });
const LIGHT = ['#c2410c', '#2563eb', '#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#ca8a04'];
/** The same hues lighter, so thin lines stay readable on the dark theme's near-black card. */
const DARK = ['#fb923c', '#60a5fa', '#34d399', '#a78bfa', '#f472b6', '#22d3ee', '#a3e635', '#facc15'];

interface Series {
  names: string[];
  data: uPlot.AlignedData;
}

function toSeries(points: HistoryResponse['points'], live: readonly LiveListeners[], range: Range): Series {
  const names = new Set<string>();
  for (const p of points) for (const k of Object.keys(p.mounts)) names.add(k);
  for (const l of live) for (const k of Object.keys(l.mounts)) names.add(k);
  if (live.length > 0) names.add('hls');
  const mounts = [...names].sort((a, b) => (a === 'hls' ? 1 : b === 'hls' ? -1 : a.localeCompare(b)));
  let rows = points.map((p) => ({ t: p.t, total: p.total, m: p.mounts }));
  if (range === '30d') {
    // One point an hour (the peak), so a month is 720 points, not 43,200.
    const hours = new Map<number, { t: number; total: number; m: Record<string, number> }>();
    for (const r of rows) {
      const h = Math.floor(r.t / 3600_000) * 3600_000;
      const cur = hours.get(h) ?? { t: h, total: 0, m: {} };
      cur.total = Math.max(cur.total, r.total);
      for (const [k, v] of Object.entries(r.m)) cur.m[k] = Math.max(cur.m[k] ?? 0, v);
      hours.set(h, cur);
    }
    rows = [...hours.values()];
  }
  if (range === '1h') {
    // Whole minutes of history (each the minute's peak) until the live samples start, then the samples.
    const since = Date.now() - 3600_000;
    const firstLive = live[0]?.at ?? Infinity;
    rows = rows.filter((r) => r.t >= since && r.t + 60_000 <= firstLive);
    for (const l of live) rows.push({ t: l.at, total: l.total, m: { ...l.mounts, hls: l.hls } });
  }
  const xs = rows.map((r) => r.t / 1000);
  return {
    names: ['total', ...mounts],
    data: [xs, rows.map((r) => r.total), ...mounts.map((k) => rows.map((r) => r.m[k] ?? 0))],
  };
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function ListenersChartView({ api, live }: { api: Api; live: readonly LiveListeners[] }) {
  const [range, setRange] = useState<Range>('1h');
  const [history, setHistory] = useState<HistoryResponse['points']>([]);
  const [failed, setFailed] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<void> => {
      try {
        const r = await api.get<HistoryResponse>(`/api/listeners/history?minutes=${MINUTES[range]}`);
        if (!stopped) {
          setHistory(r.points);
          setFailed('');
        }
      } catch (err) {
        if (!stopped) setFailed(err instanceof Error ? err.message : String(err));
      }
    };
    void load();
    const timer = setInterval(() => void load(), 60_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, range]);

  const series = toSeries(history, range === '1h' ? live : [], range);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const key = `${range}|${series.names.join(',')}`;
    if (plot.current && shape.current === key) {
      plot.current.setData(series.data);
      return;
    }
    plot.current?.destroy();
    shape.current = key;
    const text = cssVar('--muted', '#666');
    const grid = cssVar('--line', '#ddd');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const colours = dark ? DARK : LIGHT;
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 220,
        scales: {
          // Always the whole window (an hour, a day, 30 days) up to now, even with one sample in it.
          x: { time: true, range: () => [Date.now() / 1000 - MINUTES[range] * 60, Date.now() / 1000] },
          y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
        },
        axes: [axis, { ...axis, size: 40 }],
        legend: { live: true },
        series: [
          {},
          ...series.names.map((n, i) => ({
            label: n === 'total' ? 'Total' : n === 'hls' ? 'HLS' : n.replace('/listen/', ''),
            stroke: colours[i % colours.length] ?? '#888',
            width: n === 'total' ? 2.5 : 1.5,
            ...(n === 'total' ? { fill: dark ? 'rgba(251,146,60,0.10)' : 'rgba(194,65,12,0.08)' } : {}),
            points: { show: false },
            // A count holds until it changes: steps, not slopes between samples.
            paths: stepped,
          })),
        ],
      },
      series.data,
      el,
    );
  });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  const latest = live.at(-1);
  return (
    <section class="card" aria-labelledby="listeners-label">
      <header class="card-head">
        <h2 id="listeners-label">
          Listeners
          {latest ? (
            <span class="big-num" data-testid="listeners-now">
              {' '}
              {latest.total}
            </span>
          ) : null}
        </h2>
        <div class="segmented" role="group" aria-label="Time range">
          {(['1h', '24h', '30d'] as const).map((r) => (
            <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
              {r === '1h' ? 'Hour (live)' : r === '24h' ? '24 hours' : '30 days'}
            </button>
          ))}
        </div>
      </header>
      <div
        ref={box}
        class="chart"
        data-testid="chart"
        data-points={series.data[0].length}
        role="img"
        aria-label={`Listeners over the last ${range === '1h' ? 'hour' : range === '24h' ? '24 hours' : '30 days'}, per mount and in total`}
      />
      {failed && <p class="warn-text">History unavailable: {failed}</p>}
    </section>
  );
}

export const ListenersChart = memo(ListenersChartView);
