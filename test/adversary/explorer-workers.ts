// Worker threads for the explorer: each builds the same root (it is seeded) and the same cards, keeps
// its own copy of the visited set, and processes the chunks it is given (Explorer.processChunk). The
// main thread hands chunks out as workers free up and puts the results back in chunk order.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { brokenApplets } from './broken-cards.js';
import { type ChunkResult, type ChunkRunner, Explorer, type Pass } from './explorer.js';
import { buildExplorerRoot } from './explorer-root.js';

type ToWorker =
  | { type: 'chunk'; id: number; paths: number[][]; pass: Pass }
  | { type: 'visited'; hashes: readonly string[] };
type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ChunkResult }
  | { type: 'error'; message: string };

interface WorkerData {
  entry: string;
  broken: string | undefined;
}

const WORKER_HEAP_MB = 6_144;

/** A worker thread runs TypeScript through tsx, registered before this module is imported. */
const BOOT =
  "const { workerData } = require('node:worker_threads'); import('tsx/esm/api').then((tsx) => { tsx.register(); return import(workerData.entry); });";

export async function startWorkers(count: number, broken: string | undefined): Promise<ChunkRunner> {
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(BOOT, {
        eval: true,
        workerData: { entry: import.meta.url, broken } satisfies WorkerData,
        // Each worker's caches hold up to a few GB at depth 8 (world-step.ts, bounded-cache.ts),
        // above V8's default heap; a larger young generation makes the many short-lived objects cheaper.
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 64 },
      }),
  );
  /** What each worker's next message is for. */
  const listeners = new Map<Worker, (m: FromWorker) => void>();
  const failed = new Map<Worker, (e: Error) => void>();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          listeners.set(w, (m) => (m.type === 'ready' ? resolve() : reject(new Error('worker not ready'))));
          failed.set(w, reject);
          w.on('message', (m: FromWorker) => listeners.get(w)?.(m));
          w.on('error', (e) => failed.get(w)?.(e));
        }),
    ),
  );

  const run = (chunks: number[][][], pass: Pass, progress?: (done: number) => void) =>
    new Promise<ChunkResult[]>((resolve, reject) => {
      const results: ChunkResult[] = new Array(chunks.length);
      let next = 0;
      let done = 0;
      if (chunks.length === 0) resolve(results);
      const feed = (w: Worker) => {
        if (next >= chunks.length) return;
        const id = next++;
        w.postMessage({ type: 'chunk', id, paths: chunks[id]!, pass } satisfies ToWorker);
      };
      for (const w of workers) {
        listeners.set(w, (m) => {
          if (m.type === 'error') return reject(new Error(`explorer worker: ${m.message}`));
          if (m.type !== 'result') return;
          results[m.id] = m.result;
          progress?.(++done);
          if (done === chunks.length) resolve(results);
          else feed(w);
        });
        failed.set(w, reject);
        feed(w);
      }
    });

  return {
    run,
    addVisited: (hashes) => {
      for (const w of workers) w.postMessage({ type: 'visited', hashes } satisfies ToWorker);
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

async function serve(): Promise<void> {
  const data = workerData as WorkerData;
  const explorer = new Explorer(await buildExplorerRoot(), brokenApplets(data.broken));
  const visited = new Set<string>();
  Error.stackTraceLimit = 0; // as Explorer.run does: refusals are thrown errors
  parentPort!.on('message', (m: ToWorker) => {
    if (m.type === 'visited') {
      for (const h of m.hashes) visited.add(h);
      return;
    }
    explorer.processChunk(m.paths, m.pass, visited).then(
      (result) => parentPort!.postMessage({ type: 'result', id: m.id, result } satisfies FromWorker),
      (e: unknown) =>
        parentPort!.postMessage({
          type: 'error',
          message: String((e as Error)?.stack ?? e),
        } satisfies FromWorker),
    );
  });
  parentPort!.postMessage({ type: 'ready' } satisfies FromWorker);
}

if (!isMainThread && (workerData as WorkerData | undefined)?.entry === import.meta.url) await serve();
