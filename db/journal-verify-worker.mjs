// Worker thread of Journal.verifyParallel(): verifies one checkpoint segment of the chain on its own
// read-only connection and posts the SegmentResult. Plain JavaScript so that a worker can start
// wherever the project runs from source (CLI, tests, benchmarks); it loads the TypeScript through tsx.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { verifyFileSegment } = await import('./journal-verify-segment.ts');
parentPort.postMessage(verifyFileSegment(workerData));
