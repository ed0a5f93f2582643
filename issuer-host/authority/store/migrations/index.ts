import type { Migration } from '../../../../db/migrations/types.js';
import { authorityMigration001 } from './001-authority.js';

export { AUTHORITY_APPLICATION_ID } from './001-authority.js';

/**
 * The authority database's own ordered registry (db/migrate.ts runs it): versions 1..n, no gaps.
 * Append new steps at the end; never reorder or edit a shipped step.
 */
export const AUTHORITY_MIGRATIONS: readonly Migration[] = [authorityMigration001];

export const AUTHORITY_LATEST_VERSION: number = AUTHORITY_MIGRATIONS.at(-1)?.version ?? 0;
