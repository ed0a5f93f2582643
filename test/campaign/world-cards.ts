// Cards of a campaign world: personalized by one issuer with a spread of key set-ups (so key updates
// take every route), with the owner PIN, and wrapped so the world can count and fault every APDU
// and every persistent write.
import { type SettlementState, settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { type PersonalizeOptions, personalizeCard } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend, type PersistenceBackend } from '../../card-sim/os/persistence-backend.js';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import type { ContentItem } from '../../protocol/settlement/contents-codec.js';
import type { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { createUnderRight } from '../support/content-fixtures.js';
import type { WorldCard } from './campaign-world.js';
import type { SeededRandom } from './seeded-random.js';

export const WORLD_PIN = '1234';
export const WORLD_CURRENCY = 978;
const DAY_MS = 86_400_000;

/** Key set-ups of new cards, drawn in turn: common-key, pre-stored, older update key, public-key only. */
export function cardSetup(r: SeededRandom, balance: number): PersonalizeOptions {
  const transferKeyId = r.int(1, 3);
  const updateKeyId = r.pick([0, 1, 1, 2, 3]);
  const prestored = r.chance(0.3) ? [transferKeyId + 1, transferKeyId + 2] : undefined;
  return {
    validity: new Date(Date.now() + 3 * 365 * DAY_MS).toISOString().slice(0, 10).replaceAll('-', ''),
    balance,
    maxBalance: 10_000_000,
    transferKeyId,
    transferKeyIdLimit: 6,
    prestoredTransferKeyIds: prestored,
    updateKeyId,
    updateKeyIdLimit: 3,
    pin: WORLD_PIN,
    // A real cardholder policy (the demo's): payments above it need the PIN, which the campaign's
    // operations give when the terminal asks for it (operations.ts).
    noPinLimits: DEFAULT_NO_PIN_LIMITS,
  };
}

/** What the world's fault injector decides for each APDU and each persistent write. */
export interface CardHooks {
  /** Before the card sees an APDU: 'pass', or a fault that the world carries out. */
  onApdu(card: FaultableCard, apdu: Uint8Array): 'pass' | 'mute-before' | 'mute-after';
  onWrite(card: FaultableCard): TearingDecision;
}

export class FaultableCard implements WorldCard {
  retired = false;
  readonly sim: SimulatedCard;
  readonly holderId: string;

  constructor(
    readonly label: string,
    readonly backend: PersistenceBackend,
    image: ReturnType<typeof personalizeCard>,
    hooks: CardHooks,
  ) {
    this.holderId = image.holderId;
    this.sim = createSettlementCard({ backend, initial: image });
    const os = this.sim.os;
    const transmit = os.transmit.bind(os);
    os.transmit = (apdu) => {
      this.recordApdu(apdu);
      const decision = hooks.onApdu(this, apdu);
      if (decision === 'mute-before') return new Uint8Array(0);
      const response = transmit(apdu);
      return decision === 'mute-after' ? new Uint8Array(0) : response;
    };
    this.sim.store.tearing = () => hooks.onWrite(this);
  }

  memoryImage(): string | undefined {
    return this.backend.load();
  }

  state() {
    const image = this.backend.load();
    if (image === undefined) throw new Error('the card memory is empty');
    return settlementStateCodec.decode(image);
  }

  /** The last APDUs honest terminals sent this card (what a hostile terminal could have recorded). */
  readonly recorded: Uint8Array[] = [];
  private recordApdu(apdu: Uint8Array): void {
    if (this.recorded.length >= RECORDED_APDUS) this.recorded.shift();
    this.recorded.push(apdu.slice());
  }

  /**
   * Puts a memory image on the card (validated by the applet's own schema), as if the card came back
   * from another reader with it: what a hostile terminal left (adversary-visit.ts). The card reads
   * it at its next power-up, which putting it back into a reader is.
   */
  overwrite(state: SettlementState): void {
    this.backend.store(settlementStateCodec.encode(state));
    this.sim.store.reload();
  }
}

/** How many of its last APDUs a card keeps for replays. */
const RECORDED_APDUS = 48;

/** The cards of a world: issued by one issuer, each with a key set-up drawn from the world's seed. */
export class CardPool {
  readonly cards: FaultableCard[] = [];

  constructor(
    private readonly issuer: IssuerState,
    private readonly random: SeededRandom,
    private readonly hooks: CardHooks,
  ) {}

  issue(balance: number): FaultableCard {
    const label = `card-${this.cards.length + 1}`;
    const image = personalizeCard(this.issuer, { ...cardSetup(this.random, balance), label });
    const card = new FaultableCard(label, new MemoryBackend(), image, this.hooks);
    this.cards.push(card);
    return card;
  }

  active(): FaultableCard[] {
    return this.cards.filter((c) => !c.retired);
  }

  /** Retires `card` (it keeps its value and items, out of the readers) and issues an empty one. */
  reissue(card: FaultableCard): FaultableCard {
    card.retired = true;
    return this.issue(0);
  }
}

/** Issues a ticket to a card under a create right of the issuer's authority; returns its ID. */
export async function createItem(
  issuer: IssuerState,
  client: SettlementClient,
  cardHolderId: Uint8Array,
  now: number,
  label: string,
): Promise<string> {
  const item: ContentItem = {
    id: toHex(randomBytes(16)),
    type: 'ticket',
    issuerId: issuer.issuerId,
    policy: 'issuer-alterable',
    label,
    body: toHex(new TextEncoder().encode(label)),
  };
  await createUnderRight(issuer, client, cardHolderId, now, item);
  return item.id;
}
