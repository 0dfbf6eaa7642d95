// Test scaffolding: programme (sine) → encoders → icecast-compat on a real Fastify server, port 0.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { SettingName } from '../../src/config/settings.js';
import type { FdkAacLibrary } from '../../src/encoders/fdk-aac.js';
import type { NativeCodecs } from '../../src/encoders/native-run.js';
import { createEncoders, type EncoderLayout, type Encoders } from '../../src/encoders/index.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/path.js';
import { buildHttpServer } from '../../src/http/server.js';
import { createIcecastCompat, type AdminActions, type IcecastCompat } from '../../src/icecast-compat/index.js';
import { AuthGuard } from '../../src/util/auth-guard.js';
import { createSineProgramme, type SineProgramme } from './sine-programme.js';

export const SECRETS = { sourcePassword: 'sourcepw', adminPassword: 'adminpw', relayPassword: 'relaypw' } as const;

export interface OutputsStack {
  readonly config: Config;
  readonly programme: SineProgramme;
  readonly encoders: Encoders;
  readonly supervisor: Supervisor;
  readonly icecast: IcecastCompat;
  readonly app: FastifyInstance;
  readonly port: number;
  readonly actionsLog: string[];
  close(): Promise<void>;
}

export async function startOutputs(
  overrides: Partial<Record<SettingName, unknown>> = {},
  title = 'First Title',
  extra: { maxQueueBytes?: number; speed?: number; layout?: EncoderLayout; fdkAac?: FdkAacLibrary; native?: NativeCodecs } = {},
): Promise<OutputsStack> {
  const config = loadConfig({ env: {}, overrides: { httpPort: 0, host: '127.0.0.1', publicHostname: '127.0.0.1', ...overrides } });
  const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
  // speed > 1 runs the programme faster than real time (fills kernel socket buffers quickly in tests).
  const programme = createSineProgramme({ title, speed: extra.speed ?? 1 });
  const encoderOpts = {
    ...(extra.maxQueueBytes !== undefined ? { maxQueueBytes: extra.maxQueueBytes } : {}),
    ...(extra.layout !== undefined ? { layout: extra.layout } : {}),
    ...(extra.fdkAac !== undefined ? { fdkAac: extra.fdkAac } : {}),
    ...(extra.native !== undefined ? { native: extra.native } : {}),
  };
  const supervisor = new Supervisor({ log });
  const encoders = await createEncoders({ config, log, ffmpegPath: resolveFfmpegPath(undefined), programme, supervisor, ...encoderOpts });
  const actionsLog: string[] = [];
  const actions: AdminActions = {
    kickSource: (mount) => (actionsLog.push(`kick ${mount}`), true),
    setTitle: (t, mount) => {
      actionsLog.push(`title ${mount} ${t}`);
      programme.setTitle(t);
    },
  };
  const auth = new AuthGuard({ log });
  const icecast = await createIcecastCompat({ config, secrets: SECRETS, log, encoders, actions, auth });
  const app = buildHttpServer({ config, log });
  await app.register(icecast.plugin);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    config,
    programme,
    encoders,
    supervisor,
    icecast,
    app,
    port,
    actionsLog,
    async close() {
      await app.close();
      await icecast.close();
      supervisor.close();
      await encoders.close();
      programme.close();
    },
  };
}
