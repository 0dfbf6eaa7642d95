// Which listeners the ingest opens for a port configuration: Shoutcast v1 at port+1 by default, and
// one shared listener when primary's Shoutcast port is the fallback port (8010/8011 defaults).
import { describe, expect, it } from 'vitest';
import { planListeners } from '../../src/ingest/ingest.js';

const names = (groups: ReturnType<typeof planListeners>): string[][] => groups.map((g) => g.map((r) => `${r.name}:${r.port}`));

describe('ingest listener plan', () => {
  it('defaults: 8010 primary, 8011 fallback + primary Shoutcast (shared), 8012 fallback Shoutcast', () => {
    expect(
      names(planListeners({ primaryPort: 8010, fallbackPort: 8011, primaryShoutcastPort: undefined, fallbackShoutcastPort: undefined })),
    ).toEqual([['primary:8010'], ['fallback:8011', 'primaryShoutcast:8011'], ['fallbackShoutcast:8012']]);
  });

  it('port 0 is ephemeral, its Shoutcast port too, and nothing is shared', () => {
    expect(
      planListeners({ primaryPort: 0, fallbackPort: 0, primaryShoutcastPort: undefined, fallbackShoutcastPort: undefined }),
    ).toHaveLength(4);
  });

  it('explicit Shoutcast ports override port+1', () => {
    expect(names(planListeners({ primaryPort: 9000, fallbackPort: 9100, primaryShoutcastPort: 9001, fallbackShoutcastPort: 0 }))).toEqual([
      ['primary:9000'],
      ['fallback:9100'],
      ['primaryShoutcast:9001'],
      ['fallbackShoutcast:0'],
    ]);
  });

  it('refuses two roles of the same kind on one port', () => {
    expect(() => planListeners({ primaryPort: 9000, fallbackPort: 9100, primaryShoutcastPort: 9200, fallbackShoutcastPort: 9200 })).toThrow(
      /configured twice/,
    );
    expect(() =>
      planListeners({ primaryPort: 65535, fallbackPort: 9100, primaryShoutcastPort: undefined, fallbackShoutcastPort: undefined }),
    ).toThrow(/out of range/);
  });
});
