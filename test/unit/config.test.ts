import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveSecrets } from '../../src/config/secrets.js';
import { envName } from '../../src/config/settings.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'antenna-config-'));
  dirs.push(d);
  return d;
};

describe('config', () => {
  it('maps every setting to ANTENNA_ + upper snake case', () => {
    expect(envName('silenceSeconds')).toBe('ANTENNA_SILENCE_SECONDS');
    expect(envName('primaryPort')).toBe('ANTENNA_PRIMARY_PORT');
    expect(envName('minBufferMs')).toBe('ANTENNA_MIN_BUFFER_MS');
  });

  it('has the documented defaults and is deeply frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      primaryPort: 8010,
      fallbackPort: 8011,
      httpPort: 8000,
      minBufferMs: 150,
      maxBufferMs: 2000,
      stallMs: 300,
      sourceTimeoutS: 10,
      silenceThresholdDb: -50,
      silenceSeconds: 10,
      soundSeconds: 2,
      returnHoldSeconds: 3,
      crossfadeMs: 500,
    });
    expect(c.mounts.map((m) => m.mount)).toEqual([
      '/listen/live.mp3',
      '/listen/live-128.mp3',
      '/listen/live.aac',
      '/listen/live-64.aac',
      '/listen/live.ogg',
      '/listen/live-96.ogg',
    ]);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.mounts[0])).toBe(true);
  });

  it('reads environment over file over defaults', () => {
    const d = tmp();
    const file = join(d, 'antenna.json');
    writeFileSync(file, JSON.stringify({ silenceSeconds: 7, stallMs: 400 }));
    const c = loadConfig({ env: { ANTENNA_CONFIG: file, ANTENNA_STALL_MS: '250', FFMPEG_PATH: '/usr/bin/ffmpeg' } });
    expect(c.silenceSeconds).toBe(7);
    expect(c.stallMs).toBe(250);
    expect(c.ffmpegPath).toBe('/usr/bin/ffmpeg');
  });

  it('stops on an invalid value naming the setting, the value and what is allowed', () => {
    expect(() => loadConfig({ env: { ANTENNA_SILENCE_SECONDS: 'soon' } })).toThrow(
      /silenceSeconds \(env ANTENNA_SILENCE_SECONDS\) = "soon".*number/,
    );
    expect(() => loadConfig({ env: { ANTENNA_PRIMARY_PORT: '70000' } })).toThrow(/primaryPort.*70000.*65535/);
    expect(() => loadConfig({ env: { ANTENNA_MIN_BUFFER_MS: '3000', ANTENNA_MAX_BUFFER_MS: '1000' } })).toThrow(
      /minBufferMs = 3000 must not exceed maxBufferMs = 1000/,
    );
    expect(() => loadConfig({ env: { ANTENNA_MOUNTS: '[{"mount":"/x","codec":"mp3"}]' } })).toThrow(/mounts/);
  });

  it('never echoes a password in an error', () => {
    try {
      loadConfig({ env: { ANTENNA_SOURCE_PASSWORD: '' }, overrides: { sourcePassword: 42 } });
      expect.fail('should throw');
    } catch (err) {
      expect(String(err)).not.toContain('42');
      expect(String(err)).toContain('[redacted]');
    }
  });

  it('rejects unknown keys in the config file', () => {
    const d = tmp();
    const file = join(d, 'antenna.json');
    writeFileSync(file, JSON.stringify({ silenceSecs: 7 }));
    expect(() => loadConfig({ env: { ANTENNA_CONFIG: file } })).toThrow(/unknown setting "silenceSecs"/);
  });

  it('generates strong passwords once, keeps them 0600 in the data dir and reuses them', () => {
    const d = tmp();
    const c = loadConfig({ env: { ANTENNA_DATA_DIR: d } });
    const first = resolveSecrets(c);
    expect(first.generated).toEqual(['sourcePassword', 'adminPassword']);
    expect(first.secrets.sourcePassword.length).toBeGreaterThanOrEqual(20);
    expect(statSync(join(d, 'secrets.json')).mode & 0o777).toBe(0o600);
    const second = resolveSecrets(c);
    expect(second.secrets).toEqual(first.secrets);
    expect(JSON.parse(readFileSync(join(d, 'secrets.json'), 'utf8'))).toMatchObject({ sourcePassword: first.secrets.sourcePassword });
    const configured = resolveSecrets(
      loadConfig({ env: { ANTENNA_DATA_DIR: d, ANTENNA_SOURCE_PASSWORD: 'hackme-not', ANTENNA_ADMIN_PASSWORD: 'adm' } }),
    );
    expect(configured.generated).toEqual([]);
    expect(configured.secrets.relayPassword).toBe('adm');
  });

  it('reads the status API settings from the environment; Appwrite needs endpoint, project and team together; keys never echoed', () => {
    const c = loadConfig({
      env: {
        ANTENNA_APPWRITE_ENDPOINT: 'https://cloud.appwrite.io/v1',
        ANTENNA_APPWRITE_PROJECT: 'p1',
        ANTENNA_APPWRITE_TEAM_ID: 't1',
        ANTENNA_APPWRITE_WRITE_ROLES: 'owner,editor',
        ANTENNA_METRICS_PUBLIC: 'true',
        ANTENNA_UPLOAD_MAX_BYTES: '1048576',
      },
    });
    expect(c).toMatchObject({ appwriteTeamId: 't1', appwriteWriteRoles: 'owner,editor', metricsPublic: true, uploadMaxBytes: 1_048_576 });
    expect(loadConfig({ env: {} })).toMatchObject({
      appwriteWriteRoles: 'owner,admin',
      metricsPublic: false,
      uploadMaxBytes: 50 * 1_048_576,
      listenerHistoryDays: 30,
    });
    expect(() => loadConfig({ env: { ANTENNA_APPWRITE_ENDPOINT: 'https://cloud.appwrite.io/v1' } })).toThrow(/go together/);
    expect(() => loadConfig({ env: { ANTENNA_METRICS_PUBLIC: 'yes' } })).toThrow(/metricsPublic/);
    expect(() =>
      loadConfig({ env: { ANTENNA_APPWRITE_ENDPOINT: 'ftp://x', ANTENNA_APPWRITE_PROJECT: 'p', ANTENNA_APPWRITE_TEAM_ID: 't' } }),
    ).toThrow(/appwriteEndpoint/);
    let message = '';
    try {
      loadConfig({ env: { ANTENNA_APPWRITE_API_KEY: 'secret-key-value', ANTENNA_LISTENER_HISTORY_DAYS: '3' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/listenerHistoryDays/);
    expect(message).not.toContain('secret-key-value');
  });
});
