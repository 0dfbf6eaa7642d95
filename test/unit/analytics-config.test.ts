// The analytics and alerts settings: off by default, validated at start-up, secrets never echoed.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { splitUrls } from '../../src/config/settings.js';

describe('analytics and alerts settings', () => {
  it('everything is off by default, PostHog pointing at the US cloud, counts every minute', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      posthogKey: '',
      posthogHost: 'https://us.i.posthog.com',
      posthogIntervalS: 60,
      pushoverToken: '',
      pushoverUser: '',
      pushoverApi: 'https://api.pushover.net',
      webhookUrls: '',
      alertHoldSeconds: 3600,
    });
  });

  it('reads the environment: EU cloud, Pushover keys, a list of webhooks', () => {
    const c = loadConfig({
      env: {
        ANTENNA_POSTHOG_KEY: 'phc_abc',
        ANTENNA_POSTHOG_HOST: 'https://eu.i.posthog.com',
        ANTENNA_POSTHOG_INTERVAL_S: '30',
        ANTENNA_PUSHOVER_TOKEN: 'a'.repeat(30),
        ANTENNA_PUSHOVER_USER: 'b'.repeat(30),
        ANTENNA_WEBHOOK_URLS: 'https://discord.com/api/webhooks/1/x, https://hooks.slack.com/services/T/B/y',
        ANTENNA_WEBHOOK_SECRET: 's',
      },
    });
    expect(c.posthogIntervalS).toBe(30);
    expect(splitUrls(c.webhookUrls)).toEqual(['https://discord.com/api/webhooks/1/x', 'https://hooks.slack.com/services/T/B/y']);
  });

  it('stops on a malformed Pushover key, a token without a user, or a bad URL, without echoing the secret', () => {
    const bad = (env: Record<string, string>, re: RegExp): string => {
      try {
        loadConfig({ env });
      } catch (err) {
        expect(String(err)).toMatch(re);
        return String(err);
      }
      return expect.fail('should throw');
    };
    expect(
      bad({ ANTENNA_PUSHOVER_TOKEN: 'short-token-value', ANTENNA_PUSHOVER_USER: 'b'.repeat(30) }, /pushoverToken.*30 letters/),
    ).not.toContain('short-token-value');
    bad({ ANTENNA_PUSHOVER_TOKEN: 'a'.repeat(30) }, /pushoverToken and pushoverUser go together/);
    expect(bad({ ANTENNA_WEBHOOK_URLS: 'ftp://secret-host/x' }, /webhookUrls.*http/)).not.toContain('secret-host');
    bad({ ANTENNA_POSTHOG_HOST: 'not a url' }, /posthogHost/);
  });
});
