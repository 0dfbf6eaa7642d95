// Everything the dashboard shows, kept fresh: the live feed (levels at 10 Hz, listeners each second,
// timeline items and titles as they happen), /api/status every two seconds for the slower detail,
// and the event timeline. After the feed comes back (a server restart, a network drop) the status and
// the timeline are read again from scratch, since a restarted server starts a new timeline.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiFailure } from '../shared/api.js';
import { openLive, type LiveState } from '../shared/live.js';
import type { LiveLevels, LiveListeners, LiveNowPlaying, Me, Status, TimelineItem } from '../shared/types.js';
import { EXPIRED_NOTICE, SignInExpired, type Session } from './session.js';

const STATUS_MS = 2000;
const DAY_MS = 24 * 3600_000;
const MAX_EVENTS = 2000;
/** Listener samples kept for the "last hour, live" chart: one a second. */
const LIVE_LISTENER_SAMPLES = 3600;

export interface Dashboard {
  readonly api: Api;
  readonly me: Me | null;
  readonly status: Status | null;
  readonly levels: LiveLevels | null;
  readonly title: string | null;
  readonly events: readonly TimelineItem[];
  readonly listeners: readonly LiveListeners[];
  readonly connection: LiveState;
  readonly offlineSince: number | null;
  readonly error: ApiFailure | null;
  refresh(): void;
}

export function useDashboard(session: Session, onSignedOut: (why: string) => void): Dashboard {
  const api = useMemo(
    () =>
      new Api(
        () => session.header(),
        () => session.renew(),
      ),
    [session],
  );
  const [me, setMe] = useState<Me | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [levels, setLevels] = useState<LiveLevels | null>(null);
  const [title, setTitle] = useState<string | null>(null);
  const [events, setEvents] = useState<TimelineItem[]>([]);
  const [listeners, setListeners] = useState<LiveListeners[]>([]);
  const [connection, setConnection] = useState<LiveState>('connecting');
  const [offlineSince, setOfflineSince] = useState<number | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  /** Bumped to read the status now (a switch, an action); `epoch` to read everything again (a reconnect). */
  const [tick, setTick] = useState(0);
  const [epoch, setEpoch] = useState(0);
  const signedOut = useRef(onSignedOut);
  signedOut.current = onSignedOut;

  /**
   * The Api renews a refused JWT once and makes the call again (web/shared/api.ts); refused after that,
   * or when no JWT can be made any more (the Appwrite session is gone), the operator is sent back to
   * sign in with the reason.
   */
  const guarded = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    let failure: unknown;
    try {
      return await fn();
    } catch (err) {
      failure = err;
    }
    if (failure instanceof SignInExpired || (failure instanceof ApiFailure && failure.status === 401 && session.kind === 'appwrite')) {
      signedOut.current(EXPIRED_NOTICE);
      return undefined;
    }
    if (failure instanceof ApiFailure && (failure.status === 401 || failure.status === 403)) {
      signedOut.current(failure.message);
      return undefined;
    }
    if (failure instanceof ApiFailure) {
      setError(failure);
      return undefined;
    }
    throw failure;
  };

  // The status every two seconds, and at once after a switch or an action.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loop = async (): Promise<void> => {
      try {
        const s = await guarded(() => api.get<Status>('/api/status'));
        if (!stopped && s) {
          setStatus(s);
          setError(null);
        }
      } catch (err) {
        // A fault in this page, not an answer of the server's: said in the console, and the status is
        // still read again, so one bad reply cannot freeze the dashboard until the next reload.
        console.error('dashboard: reading the status failed', err);
      } finally {
        if (!stopped) timer = setTimeout(() => void loop(), STATUS_MS);
      }
    };
    void loop();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, tick]);

  // Who am I (controls are shown only to the write role) and the timeline of the last 24 hours, read
  // again after each reconnect.
  useEffect(() => {
    let stopped = false;
    void (async () => {
      const m = await guarded(() => api.get<Me>('/api/me'));
      if (!stopped && m) setMe(m);
      const r = await guarded(() => api.get<{ events: TimelineItem[] }>(`/api/events?since=${Date.now() - DAY_MS}&limit=${MAX_EVENTS}`));
      if (!stopped && r) setEvents(r.events);
    })();
    return () => {
      stopped = true;
    };
  }, [api, epoch]);

  // The live feed.
  useEffect(() => {
    let wasOffline = false;
    const conn = openLive(() => session.header(), {
      onState: (s) => {
        setConnection(s);
        if (s === 'offline') {
          wasOffline = true;
          setOfflineSince((t) => t ?? Date.now());
        } else if (s === 'open') {
          setOfflineSince(null);
          // Back after a drop: what happened meanwhile is read again (a restarted server has a new timeline).
          if (wasOffline) {
            setEpoch((t) => t + 1);
            setTick((t) => t + 1);
          }
          wasOffline = false;
        } else if (s === 'unauthorized') {
          // A refused session sends the operator to sign in; Appwrite not answering does not (the feed retries).
          if (session.kind === 'appwrite')
            void session.renew().catch((err: unknown) => {
              if (err instanceof SignInExpired) signedOut.current(EXPIRED_NOTICE);
            });
          else signedOut.current('The server no longer accepts these credentials.');
        }
      },
      onEvent: (name, data) => {
        if (name === 'levels' || name === 'hello') setLevels(data as LiveLevels);
        else if (name === 'listeners') setListeners((l) => [...l.slice(-(LIVE_LISTENER_SAMPLES - 1)), data as LiveListeners]);
        else if (name === 'nowplaying') setTitle((data as LiveNowPlaying).title);
        else if (name === 'timeline') {
          const item = data as TimelineItem;
          setEvents((e) => (e.some((x) => x.seq === item.seq && x.at === item.at) ? e : [...e.slice(-(MAX_EVENTS - 1)), item]));
          // A switch or an operator action changes what the status says: read it now, not in two seconds.
          setTick((t) => t + 1);
        }
      },
    });
    return () => conn.close();
  }, [session]);

  return {
    api,
    me,
    status,
    levels,
    title,
    events,
    listeners,
    connection,
    offlineSince,
    error,
    refresh: () => setTick((t) => t + 1),
  };
}
