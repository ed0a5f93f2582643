import { migration001Journal } from './001-journal.js';
import { migration002CrlCache } from './002-crl-cache.js';
import { migration003FlowClosedIndex } from './003-flow-closed-index.js';
import { migration004CompactJournal } from './004-compact-journal.js';
import { migration005SearchIndexes } from './005-search-indexes.js';
import { migration006UploadOutbox } from './006-upload-outbox.js';
import { migration007PinAttempts } from './007-pin-attempts.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

/** Ordered registry: versions are 1..n with no gaps. Append new steps at the end; never reorder. */
export const MIGRATIONS: readonly Migration[] = [
  migration001Journal,
  migration002CrlCache,
  migration003FlowClosedIndex,
  migration004CompactJournal,
  migration005SearchIndexes,
  migration006UploadOutbox,
  migration007PinAttempts,
];

/** The schema version this terminal writes; a file with a higher one is refused. */
export const LATEST_VERSION: number = MIGRATIONS.at(-1)?.version ?? 0;
