// What goes to PostHog, from plain payloads: the listener id changes with the day and never carries
// the address, client families from real user agents, switches named by direction.
import { describe, expect, it } from 'vitest';
import { DailySalt, clientFamily, hlsTier, listenerCapture, streamCaptures } from '../../src/analytics/capture.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 10, 29, 12, 0, 0);

describe('listener ids', () => {
  it('the same listener has one id within a UTC day and another the next day; the address is not in it', () => {
    let n = 0;
    const salt = new DailySalt((size) => Buffer.alloc(size, ++n));
    const a = salt.listenerId('203.0.113.7', 'VLC/3.0.18', T);
    expect(salt.listenerId('203.0.113.7', 'VLC/3.0.18', T + 3_600_000)).toBe(a);
    expect(salt.listenerId('203.0.113.8', 'VLC/3.0.18', T)).not.toBe(a);
    const tomorrow = salt.listenerId('203.0.113.7', 'VLC/3.0.18', T + DAY);
    expect(tomorrow).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  it('two processes (two random salts) give different ids for the same listener', () => {
    expect(new DailySalt().listenerId('203.0.113.7', 'x', T)).not.toBe(new DailySalt().listenerId('203.0.113.7', 'x', T));
  });
});

describe('client families', () => {
  it.each([
    ['VLC/3.0.18 LibVLC/3.0.18', 'VLC'],
    ['AppleCoreMedia/1.0.0.21E230 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)', 'Apple'],
    ['iTunes/12.12.10 (Windows; Microsoft Windows 10 x64) AppleWebKit/7613.2007.1014.14', 'Apple'],
    ['foobar2000/2.1', 'foobar2000'],
    ['WinampMPEG/5.9, Ultravox/2.1', 'Winamp'],
    ['mpv 0.35.1', 'mpv'],
    ['Lavf/58.76.100', 'FFmpeg'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0', 'Edge'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Safari'],
    ['curl/7.88.1', 'curl'],
    ['Icecast 2.4.4', 'Icecast'],
    ['', 'unknown'],
    ['SomethingElse/1.0', 'other'],
  ])('%s → %s', (ua, family) => {
    expect(clientFamily(ua)).toBe(family);
  });
});

describe('captures', () => {
  it('a switch down is a failover, up is a return; the emergency edges are events of their own', () => {
    const down = streamCaptures('station:X', {
      name: 'switch',
      payload: { from: 'fallback', to: 'emergency', reason: 'disconnected', at: T },
    });
    expect(down.map((c) => c.event)).toEqual(['failover', 'emergency on air']);
    const up = streamCaptures('station:X', { name: 'switch', payload: { from: 'emergency', to: 'primary', reason: 'returned', at: T } });
    expect(up.map((c) => c.event)).toEqual(['return', 'emergency off air']);
    expect(up[0]).toMatchObject({ distinctId: 'station:X', properties: { from: 'emergency', to: 'primary', reason: 'returned' } });
    expect(up[0]?.timestamp.getTime()).toBe(T);
  });

  it('a listener session carries mount or HLS tier, duration, bytes and client family, never the address or user agent', () => {
    const base = {
      id: '1',
      remoteAddress: '198.51.100.4',
      userAgent: 'VLC/3.0.18 LibVLC/3.0.18',
      durationMs: 61_400,
      bytes: 987_654,
      reason: 'closed',
      at: T,
    } as const;
    const ice = listenerCapture('abc', { ...base, protocol: 'icecast', mount: '/listen/live.mp3' });
    expect(ice.properties).toMatchObject({
      protocol: 'icecast',
      mount: '/listen/live.mp3',
      duration_s: 61,
      bytes: 987_654,
      client_family: 'VLC',
    });
    const hls = listenerCapture('abc', { ...base, protocol: 'hls', mount: '/hls/aac_128k/part-1.m4s' });
    expect(hls.properties).toMatchObject({ protocol: 'hls', hls_tier: 'aac_128k' });
    for (const c of [ice, hls]) {
      expect(JSON.stringify(c)).not.toContain('198.51.100.4');
      expect(JSON.stringify(c)).not.toContain('LibVLC');
    }
    expect(hlsTier('/hls/aac_64k/index.m3u8')).toBe('aac_64k');
  });
});
