// What every route of the status API shares: the observed pipeline (events, snapshots, commands),
// the API's own state (timeline, history, emergency library, live feed, metrics) and the views built
// from them. Built once by createApi() and handed to each route plugin.
import type { AntennaCommands, AntennaSnapshot } from '../app.js';
import type { Config } from '../config/load.js';
import type { Auth } from './auth.js';
import type { EmergencyLibrary } from './emergency-library.js';
import type { ListenerHistory } from './history.js';
import type { HoldStore } from './hold-store.js';
import type { LiveFeed } from './live.js';
import type { Metrics } from './metrics.js';
import type { NowPlaying, Status } from './schemas.js';
import type { ApiTimeline } from './timeline.js';

export interface ApiContext {
  readonly config: Config;
  readonly snapshot: () => AntennaSnapshot;
  readonly commands: AntennaCommands;
  readonly auth: Auth;
  readonly holds: HoldStore;
  readonly timeline: ApiTimeline;
  readonly history: ListenerHistory;
  readonly library: EmergencyLibrary;
  readonly live: LiveFeed;
  readonly metrics: Metrics;
  /** Now playing, with listen URLs under `origin` (`scheme://host[:port]` of the asking request). */
  nowPlaying(origin: string): NowPlaying;
  status(): Status;
}
