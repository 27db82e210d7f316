import { type Config, loadConfig } from '../lib/config/config.ts';
import { createLogger } from '../lib/config/log.ts';
import { InboxWatcher } from '../lib/triggers/watcher.ts';
import { openLandingDeps, untilSignalled } from './services.ts';

/** The landing watcher process: reconciles the inboxes, then lands every new file until SIGINT/SIGTERM. */
export async function runWatcher(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'watcher', true);
  const deps = await openLandingDeps(config, log);
  const watcher = new InboxWatcher(deps, {
    inboxes: config.inboxDirs,
    titleRule: config.titleRule,
    stabilityMs: config.watchStabilityMs,
  });
  await watcher.start();
  log.info({ inboxes: config.inboxDirs }, 'watcher ready');
  await untilSignalled();
  await watcher.stop();
  await deps.close();
  log.info('watcher stopped');
}
