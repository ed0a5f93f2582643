import { migration001Foundation } from './001-foundation.js';
import { migration002CommandAuthority } from './002-command-authority.js';
import { migration003ClearingUploads } from './003-clearing-uploads.js';
import { migration004Ledger } from './004-ledger.js';
import { migration005RefundCases } from './005-refund-cases.js';
import { migration006Issuance } from './006-issuance.js';
import { migration007ExchangeLegs } from './007-exchange-legs.js';
import { migration008ContentSends } from './008-content-sends.js';
import { migration009ContentReleaseProofs } from './009-content-release-proofs.js';
import type { HostMigration } from './types.js';

export type { HostMigration } from './types.js';

// Ordered registry: versions are 1..n with no gaps. Append new steps at the end; never reorder.
export const HOST_MIGRATIONS: readonly HostMigration[] = [
  migration001Foundation,
  migration002CommandAuthority,
  migration003ClearingUploads,
  migration004Ledger,
  migration005RefundCases,
  migration006Issuance,
  migration007ExchangeLegs,
  migration008ContentSends,
  migration009ContentReleaseProofs,
];

export const HOST_LATEST_VERSION: number = HOST_MIGRATIONS.at(-1)?.version ?? 0;
