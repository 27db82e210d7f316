import { runWorker, type WorkerKind } from './worker.ts';

const kind = process.argv[2] as WorkerKind | undefined;
if (kind !== 'orchestrator' && kind !== 'cpu' && kind !== 'gpu') {
  process.stderr.write('usage: workers/main.ts orchestrator|cpu|gpu\n');
  process.exit(2);
}
runWorker(kind).catch((err) => {
  process.stderr.write(
    `worker ${kind} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
