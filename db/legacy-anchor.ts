/**
 * The flow ID of the anchor entry that closes the conversion of a version-1 log (db/legacy-journal.ts):
 * a text ID no engine generates (they use UUIDs), so the anchor is found through the flow ID index.
 */
export const LEGACY_ANCHOR_FLOW_ID = 'legacy-chain-v1';
