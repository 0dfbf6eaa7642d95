// Renders the settings table as Markdown for the README: `npm run config:doc`.
import { SETTINGS, envName } from './settings.js';

const DERIVED: ReadonlySet<string> = new Set([
  'primaryShoutcastPort',
  'fallbackShoutcastPort',
  'sourcePassword',
  'adminPassword',
  'relayPassword',
  'httpPort',
  'httpsPort',
  'publicHostname',
  'publicHttpPort',
  'publicHttpsPort',
]);

export function settingsMarkdown(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]) => {
    const dflt =
      s.default === undefined
        ? name === 'mounts' || name === 'hlsTiers'
          ? 'see below'
          : DERIVED.has(name)
            ? '(generated / derived)'
            : '(unset)'
        : `\`${JSON.stringify(s.default)}\``;
    return `| \`${envName(name)}\` | \`${name}\` | ${dflt} | ${s.unit} | ${s.component} | ${s.doc} |`;
  });
  return [
    '| environment variable | JSON key | default | unit | read by | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(settingsMarkdown() + '\n');
