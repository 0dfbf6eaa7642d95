// Builds the one frozen Config: defaults ← optional JSON file (ANTENNA_CONFIG) ← environment ←
// explicit overrides (tests). Validation stops start-up with the setting, the value and what is allowed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AntennaError } from '../errors.js';
import type { hlsTierSchema, mountSchema } from './settings.js';
import { DEFAULT_HLS_TIERS, DEFAULT_MOUNTS, SETTINGS, envName, type SettingName } from './settings.js';

type Settings = typeof SETTINGS;
type Out<K extends SettingName> = z.output<Settings[K]['schema']>;

export type MountConfig = z.output<typeof mountSchema>;
export type HlsTierConfig = z.output<typeof hlsTierSchema>;

export type SettingsValues = { readonly [K in SettingName]: Out<K> };

export interface Config extends Omit<
  SettingsValues,
  | 'mounts'
  | 'hlsTiers'
  | 'sourcePassword'
  | 'adminPassword'
  | 'relayPassword'
  | 'domains'
  | 'httpPort'
  | 'httpsPort'
  | 'acmeDirectory'
  | 'publicHostname'
> {
  /** As set, else the first of `domains` (the name the certificate is for), else localhost. */
  readonly publicHostname: string;
  /** Host names of the certificate; empty = no ACME. */
  readonly domains: readonly string[];
  /** 8000, or 80 when TLS is on (unless set). */
  readonly httpPort: number;
  /** 443 (unless set); only listened on when `tls` is not 'off'. */
  readonly httpsPort: number;
  /** The ACME directory URL (the words letsencrypt / letsencrypt-staging resolved). */
  readonly acmeDirectory: string;
  /** Where the certificate comes from: none, ACME for `domains`, or the operator's files (which win). */
  readonly tls: 'off' | 'acme' | 'files';
  readonly mounts: readonly MountConfig[];
  readonly hlsTiers: readonly HlsTierConfig[];
  readonly ffmpegPath: string | undefined;
  readonly sourcePassword: string | undefined;
  readonly adminPassword: string | undefined;
  readonly relayPassword: string | undefined;
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file; defaults to env ANTENNA_CONFIG. */
  readonly file?: string;
  readonly overrides?: Partial<Record<SettingName, unknown>>;
}

const SECRET: ReadonlySet<string> = new Set([
  'sourcePassword',
  'adminPassword',
  'relayPassword',
  'appwriteApiKey',
  'metricsToken',
  'posthogKey',
  'pushoverToken',
  'pushoverUser',
  'webhookUrls',
  'webhookSecret',
]);

function fromEnv(name: SettingName, raw: string): unknown {
  const schema = SETTINGS[name].schema;
  const dflt = SETTINGS[name].default;
  if (name === 'mounts' || name === 'hlsTiers') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw; // left to the schema, which reports it as not a list
    }
  }
  if (typeof dflt === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  if (typeof dflt === 'number' || (dflt === undefined && isNumberSchema(schema))) {
    const n = Number(raw);
    return raw.trim() === '' || Number.isNaN(n) ? raw : n;
  }
  return raw;
}

function isNumberSchema(schema: z.ZodType): boolean {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  return inner instanceof z.ZodNumber;
}

function describe(name: string, value: unknown): string {
  if (SECRET.has(name)) return '[redacted]';
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 120 ? s.slice(0, 117) + '...' : s;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.ANTENNA_CONFIG;
  let fileValues: Record<string, unknown> = {};
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new AntennaError('CONFIG_INVALID', `cannot read config file ${file}: ${(cause as Error).message}`, { fatal: true, cause });
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new AntennaError('CONFIG_INVALID', `config file ${file} must hold a JSON object`, { fatal: true });
    }
    for (const key of Object.keys(fileValues)) {
      if (!(key in SETTINGS)) throw new AntennaError('CONFIG_INVALID', `config file ${file}: unknown setting "${key}"`, { fatal: true });
    }
  }

  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name];
    const envKey = envName(name);
    let value: unknown = setting.default;
    let origin = 'default';
    if (name in fileValues) {
      value = fileValues[name];
      origin = `config file ${file}`;
    }
    const raw = env[envKey];
    if (raw !== undefined && raw !== '') {
      value = fromEnv(name, raw);
      origin = envKey;
    }
    if (opts.overrides && name in opts.overrides) {
      value = opts.overrides[name];
      origin = 'override';
    }
    if (value === undefined && name === 'mounts') value = DEFAULT_MOUNTS;
    if (value === undefined && name === 'hlsTiers') value = DEFAULT_HLS_TIERS;
    const parsed = (setting.schema as z.ZodType).safeParse(value);
    if (!parsed.success) {
      const allowed = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ');
      const where = origin === envKey ? `env ${envKey}` : `${origin}; env ${envKey}`;
      problems.push(`${name} (${where}) = ${describe(name, value)}: ${allowed}`);
    } else {
      out[name] = parsed.data;
    }
  }

  if (problems.length === 0) problems.push(...crossChecks(out));
  if (problems.length > 0) {
    throw new AntennaError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { fatal: true });
  }
  Object.assign(out, resolveTls(out));
  const ffmpegPath = env.FFMPEG_PATH && env.FFMPEG_PATH !== '' ? env.FFMPEG_PATH : undefined;
  // The shipped emergency file lives in the package, wherever the server is started from; a path
  // the operator gives is theirs (relative to the working directory, as usual).
  if (out.emergencyFile === SETTINGS.emergencyFile.default)
    out.emergencyFile = fileURLToPath(new URL('../../emergency-audio/fallback.mp3', import.meta.url));
  return deepFreeze({ ...out, ffmpegPath }) as unknown as Config;
}

export const ACME_DIRECTORIES: Readonly<Record<string, string>> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** TLS mode and the ports that follow from it (80/443 when TLS is on, 8000 otherwise). */
export function resolveTls(
  v: Record<string, unknown>,
): Pick<Config, 'domains' | 'tls' | 'httpPort' | 'httpsPort' | 'acmeDirectory' | 'publicHostname'> {
  const domains = String(v.domains ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== '');
  const tls = v.tlsCertFile !== undefined ? 'files' : domains.length > 0 ? 'acme' : 'off';
  const dir = String(v.acmeDirectory ?? 'letsencrypt');
  return {
    domains,
    tls,
    httpPort: (v.httpPort as number | undefined) ?? (tls === 'off' ? 8000 : 80),
    httpsPort: (v.httpsPort as number | undefined) ?? 443,
    acmeDirectory: ACME_DIRECTORIES[dir] ?? dir,
    publicHostname: (v.publicHostname as string | undefined) ?? domains[0] ?? 'localhost',
  };
}

function crossChecks(v: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if ((v.tlsCertFile === undefined) !== (v.tlsKeyFile === undefined))
    problems.push('tlsCertFile and tlsKeyFile go together (a certificate you bring needs its key)');
  const t = resolveTls(v);
  if (t.tls !== 'off' && t.httpPort !== 0 && t.httpPort === t.httpsPort)
    problems.push(`httpPort and httpsPort must differ (both ${t.httpPort})`);
  if (t.tls === 'acme' && t.domains.some((d) => !d.includes('.') && d !== 'localhost'))
    problems.push(`domains: ACME certificates are for public host names (got ${t.domains.join(', ')})`);
  const min = v.minBufferMs as number;
  const max = v.maxBufferMs as number;
  if (min > max) problems.push(`minBufferMs = ${min} must not exceed maxBufferMs = ${max}`);
  if ((v.primaryPort as number) !== 0 && v.primaryPort === v.fallbackPort)
    problems.push(`primaryPort and fallbackPort must differ (both ${String(v.primaryPort)})`);
  if ((v.pushoverToken === '') !== (v.pushoverUser === ''))
    problems.push('pushoverToken and pushoverUser go together: set both (Pushover on) or neither (off)');
  const appwrite = ['appwriteEndpoint', 'appwriteProject', 'appwriteTeamId'];
  const set = appwrite.filter((k) => v[k] !== undefined);
  if (set.length > 0 && set.length < appwrite.length)
    problems.push(`${appwrite.join(', ')} go together (set: ${set.join(', ')}); without all three Appwrite sign-in is off`);
  const mounts = v.mounts as MountConfig[];
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.mount)) problems.push(`mounts: ${m.mount} is listed twice`);
    seen.add(m.mount);
    if (m.codec !== 'vorbis' && m.bitrate === undefined) problems.push(`mounts: ${m.mount} needs a bitrate for ${m.codec}`);
    if (m.codec === 'vorbis' && m.bitrate === undefined && m.quality === undefined)
      problems.push(`mounts: ${m.mount} needs a quality or bitrate`);
  }
  return problems;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const value of Object.values(o as Record<string, unknown>)) deepFreeze(value);
  }
  return o;
}
