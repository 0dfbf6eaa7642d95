// Entry point: load and validate config, print newly generated passwords once, start Antenna, and shut it
// down cleanly on SIGINT/SIGTERM (sources and listeners closed, every ffmpeg child reaped, exit 0).
import { createAntenna, type Antenna } from './app.js';
import { loadConfig } from './config/load.js';
import { resolveSecrets } from './config/secrets.js';
import { AntennaError } from './errors.js';
import { createRootLogger } from './log.js';
import { detectAllocator } from './util/allocator.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`antenna: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createRootLogger(config.logLevel);
  const memory = detectAllocator();
  if (memory.preloadMissing)
    log.warn(
      { allocator: memory.allocator },
      'LD_PRELOAD names jemalloc but it is not loaded (apt-get install libjemalloc2): memory taken by a listener peak stays with the process',
    );
  else log.info({ allocator: memory.allocator }, 'memory allocator');
  const { secrets, generated, stored, file } = resolveSecrets(config);
  for (const name of generated) {
    // Printed, not logged, and only on the start that generated it: logs are shipped and kept.
    const user = name === 'sourcePassword' ? 'source' : 'admin';
    process.stderr.write(
      `antenna: ${name} not configured; generated one, kept in ${file} (printed this once): user "${user}", password "${secrets[name]}"\n`,
    );
  }
  for (const name of stored) {
    process.stderr.write(`antenna: ${name} not configured; using the generated one kept in ${file} (not printed again)\n`);
  }

  // The handlers go in before the start-up, not after it: systemd (or an impatient operator) may stop the
  // server while it is still spawning its encoders, and Node's default action on SIGTERM would kill it on
  // the spot and leave those children behind. A signal during start-up is kept and acted on once it ends.
  let antenna: Antenna | undefined = undefined;
  let stopping = false;
  const close = (running: Antenna): void => {
    running.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, starting: antenna === undefined }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    if (antenna) close(antenna);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  antenna = await createAntenna({ config, secrets, log });
  if (stopping) close(antenna);
  else log.info({ ports: antenna.ports }, 'antenna ready');
}

main().catch((err: unknown) => {
  const message = err instanceof AntennaError ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err);
  process.stderr.write(`antenna: failed to start: ${message}\n`);
  process.exit(1);
});
