// The command-generating server on a running host, for tests: an issuer world, a host with its
// authority key on a moving clock, terminals registered at the host with their keys and a client
// each (plain HTTP: TLS has its own tests), the terminal-side port (HostAuthority) over it, signed
// registration and authentication requests built the way an issuing terminal builds them, and the
// authority's rows to show what a refusal changed.
import { HostAuthority } from '../../electron/services/issuing/host-authority.js';
import { newItem } from '../../electron/services/issuing/issuing-terminal.js';
import type { Eligibility } from '../../issuer-host/authority/command-authority.js';
import type { Grant } from '../../issuer-host/authority/grants.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaSign, type KeyPair, randomBytes } from '../../protocol/crypto-suite.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import {
  type AuthorizationRequest,
  authorizationMessage,
  type RegistrationRequest,
  registrationMessage,
  type ServerInfo,
} from '../../protocol/issuing/authority-protocol.js';
import { type ContentItem, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import {
  AUTHORITY_TABLES,
  type IssuerWorld,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
} from './host-fixtures.js';

export const T0 = Date.parse('2026-03-01T10:00:00Z');

export interface SceneTerminal {
  terminalId: string;
  keys: KeyPair;
  info: ServerInfo;
  client: HostClient;
  port: HostAuthority;
  registration(o?: { info?: ServerInfo; keys?: KeyPair; signer?: Uint8Array }): RegistrationRequest;
  authorization(
    commandId: string,
    o?: {
      item?: ContentItem;
      info?: ServerInfo;
      signer?: Uint8Array;
      nonce?: Uint8Array;
      cardHolderId?: string;
    },
  ): AuthorizationRequest;
}

export interface AuthorityScene {
  db: HostDatabase;
  host: RunningHost;
  world: IssuerWorld;
  clock: { now: number };
  admin: string;
  terminal(terminalId: string, shopId?: string): Promise<SceneTerminal>;
  /** A staff client with this token. */
  staff(token: string): HostClient;
  allow(terminalId: string, grant?: Partial<Grant>): Promise<unknown>;
  item(o?: { type?: ContentItem['type']; issuerId?: string }): ContentItem;
  /** The authority's rows (log included unless `withoutLog`). */
  rows(o?: { withoutLog?: boolean }): Promise<Record<string, unknown[]>>;
  log(): Promise<
    { kind: string; result: string; reason: string; sender_terminal_id: string; terminal_id: string | null }[]
  >;
  close(): Promise<void>;
}

export async function authorityScene(
  db: HostDatabase,
  o: { eligibility?: Eligibility; world?: IssuerWorld } = {},
): Promise<AuthorityScene> {
  const world = o.world ?? issuerWorld('Authority Test');
  const clock = { now: T0 };
  const now = () => clock.now;
  const host = await startHost({
    db,
    world,
    now,
    authority: { issuer: world.issuer, eligibility: o.eligibility ?? 'allow-list' },
  });
  const admin = await staffToken(db, 'issuer-admin');
  const clients: HostClient[] = [];
  const track = (c: HostClient) => {
    clients.push(c);
    return c;
  };
  const staff = (token: string) =>
    track(
      new HostClient({
        baseUrl: host.url,
        caCertificateDer: world.caDer,
        pins: [],
        allowPlainHttp: true,
        staffToken: token,
        now,
      }),
    );
  const adminClient = staff(admin);
  return {
    db,
    host,
    world,
    clock,
    admin,
    staff,
    async terminal(terminalId, shopId = 'shop-1') {
      const registered = await registeredTerminal(db, terminalId, shopId);
      const client = track(plainClient(host, world, registered, now));
      const info: ServerInfo = { name: `Shop ${terminalId}`, terminalId };
      return {
        ...registered,
        info,
        client,
        port: new HostAuthority(client),
        registration: (r = {}) => signedRegistration(r.info ?? info, r.keys ?? registered.keys, r.signer),
        authorization: (commandId, a = {}) =>
          signedAuthorization(
            commandId,
            a.info ?? info,
            a.item ?? itemOf(world),
            a.signer ?? registered.keys.privateKey,
            {
              nonce: a.nonce,
              cardHolderId: a.cardHolderId,
            },
          ),
      };
    },
    allow: (terminalId, grant = {}) =>
      adminClient.call('PUT', `/admin/authority/allow-list/${terminalId}`, {
        contentTypes: grant.contentTypes ?? ['ticket', 'coupon'],
        maxIssuances: grant.maxIssuances ?? null,
        validitySeconds: grant.validitySeconds ?? 30 * 86_400,
      }),
    item: (i = {}) => itemOf(world, i),
    async rows({ withoutLog = false } = {}) {
      const out: Record<string, unknown[]> = {};
      for (const table of AUTHORITY_TABLES) {
        if (withoutLog && table === 'authority_log') continue;
        out[table] = await db.query(`SELECT * FROM ${table} ORDER BY 1`);
      }
      return out;
    },
    log: () =>
      db.query(
        'SELECT kind, result, reason, sender_terminal_id, terminal_id FROM authority_log ORDER BY entry_id',
      ),
    async close() {
      for (const c of clients) c.close();
      await host.close();
    },
  };
}

function itemOf(world: IssuerWorld, o: { type?: ContentItem['type']; issuerId?: string } = {}): ContentItem {
  return newItem({
    type: o.type ?? 'ticket',
    issuerId: o.issuerId ?? world.issuer.issuerId,
    label: 'Concert',
    body: 'seat B12',
  });
}

export function signedRegistration(
  info: ServerInfo,
  keys: KeyPair,
  signer = keys.privateKey,
): RegistrationRequest {
  return {
    serverInfo: info,
    serverPublicKey: toHex(keys.publicKey),
    signature: toHex(ecdsaSign(signer, registrationMessage(info, keys.publicKey))),
  };
}

export function signedAuthorization(
  commandId: string,
  serverInfo: ServerInfo,
  item: ContentItem,
  signer: Uint8Array,
  o: { nonce?: Uint8Array | undefined; cardHolderId?: string | undefined } = {},
): AuthorizationRequest {
  const cardHolderId = o.cardHolderId ?? toHex(randomBytes(16));
  const nonce = o.nonce ?? randomBytes(16);
  const signature = ecdsaSign(
    signer,
    authorizationMessage({
      commandId: fromHex(commandId),
      serverInfo,
      cardHolderId: fromHex(cardHolderId),
      itemDigest: payloadDigest(encodeItem(item)),
      nonce,
    }),
  );
  return {
    commandId,
    serverInfo,
    request: { cardHolderId, item, nonce: toHex(nonce) },
    signature: toHex(signature),
  };
}
