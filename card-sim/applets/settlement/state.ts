// Persistent state of the settlement applet: the card's EEPROM image. Byte strings are stored as
// uppercase hex. Secrets live here and nowhere else; no command ever returns them.
import { z } from 'zod';
import { LOG_CAPACITY } from '../../../protocol/settlement/commands.js';

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9A-F]{${bytes * 2}}$`));
const uint32 = z.number().int().min(0).max(0xffffffff);

export const debitRecordSchema = z.object({
  txRandom: hex(16),
  payeeId: hex(16),
  currency: z.number().int().min(0).max(0xffff),
  amount: uint32,
  date: uint32,
  transferKeyId: uint32,
  status: z.enum(['open', 'debited', 'acknowledged', 'aborted']),
  rxRandom: hex(16).optional(),
  /** Reception challenge (when debited) or abort proof (when aborted), re-issued on a status query. */
  proof: hex(16).optional(),
});
export type DebitRecord = z.infer<typeof debitRecordSchema>;

export const creditRecordSchema = z.object({
  txRandom: hex(16),
  payerId: hex(16),
  currency: z.number().int().min(0).max(0xffff),
  amount: uint32,
  date: uint32,
  transferKeyId: uint32,
  rxRandom: hex(16),
  status: z.enum(['pending', 'credited', 'cancelled']),
  /** Credit acknowledgement, once credited. */
  proof: hex(16).optional(),
});
export type CreditRecord = z.infer<typeof creditRecordSchema>;

export const settlementStateSchema = z
  .object({
    format: z.literal(1),
    holderId: hex(16),
    validity: z.string().regex(/^\d{8}$/),
    currency: z.number().int().min(0).max(999),
    balance: uint32,
    maxBalance: uint32,
    transferKeyId: uint32,
    transferKeyIdLimit: uint32,
    /** Current transfer key, pre-stored future keys (embodiment 4) and keys still referenced by unsettled records. */
    transferKeys: z.record(z.string().regex(/^\d+$/), hex(16)),
    updateKeyId: uint32,
    updateKeyIdLimit: uint32,
    /** Absent on cards that only use the public-key route (embodiment 2). */
    updateKey: hex(16).optional(),
    caPublicKey: hex(65),
    cardPrivateKey: hex(32),
    certificate: z.string().regex(/^([0-9A-F]{2})+$/),
    debitLog: z.array(debitRecordSchema).max(LOG_CAPACITY),
    creditLog: z.array(creditRecordSchema).max(LOG_CAPACITY),
  })
  .refine((s) => s.balance <= s.maxBalance, 'balance above maximum')
  .refine((s) => s.transferKeys[String(s.transferKeyId)] !== undefined, 'current transfer key missing')
  .refine((s) => s.transferKeyId <= s.transferKeyIdLimit, 'transfer key ID above its limit')
  .refine(
    (s) => (s.updateKey === undefined) === (s.updateKeyId === 0),
    'update key ID 0 means no update key',
  );

export type SettlementState = z.infer<typeof settlementStateSchema>;

/** Canonical serialization: the same state always gives the same image. */
export const settlementStateCodec = {
  encode(state: SettlementState): string {
    return `${JSON.stringify(settlementStateSchema.parse(state), null, 1)}\n`;
  },
  decode(image: string): SettlementState {
    return settlementStateSchema.parse(JSON.parse(image));
  },
};

export function pendingCreditTotal(state: SettlementState): number {
  return state.creditLog.filter((r) => r.status === 'pending').reduce((sum, r) => sum + r.amount, 0);
}

export function openDebitTotal(state: SettlementState): number {
  return state.debitLog.filter((r) => r.status === 'open').reduce((sum, r) => sum + r.amount, 0);
}

/** Drops transfer keys older than the current one that no unsettled record refers to. */
export function retireTransferKeys(state: SettlementState): void {
  const referenced = new Set<number>([state.transferKeyId]);
  for (const r of state.debitLog)
    if (r.status === 'open' || r.status === 'debited') referenced.add(r.transferKeyId);
  for (const r of state.creditLog) if (r.status === 'pending') referenced.add(r.transferKeyId);
  for (const id of Object.keys(state.transferKeys)) {
    const n = Number(id);
    if (n < state.transferKeyId && !referenced.has(n)) delete state.transferKeys[id];
  }
}
