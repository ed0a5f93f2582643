// The issuing terminal's way to the command-generating server: HTTPS to the issuer host over the
// pinned, signing link (docs/issuer-host.md, "Command-generating server"). Each ack is validated as
// it arrives; a reject is an answer, a transport failure (E_TRANSPORT, E_TRANSPORT_TIMEOUT,
// E_HOST_PIN) or a refusal of the request itself (E_AUTH_…, for a terminal the host does not know or
// has revoked) is thrown, and the issuing terminal journals it as nothing issued.
import { z } from 'zod';
import type { HostClient } from '../../../protocol/host-link/host-client.js';
import {
  type AuthorizationAck,
  type AuthorizationRequest,
  authorizationAckFromJson,
  type CommandAuthorityPort,
  type RegistrationAck,
  type RegistrationRequest,
  registrationAckFromJson,
} from '../../../protocol/issuing/authority-protocol.js';

/** What the host tells a terminal about its own standing with the authority (validated on arrival). */
const authorityStatusSchema = z.object({
  issuerId: z.string().regex(/^[0-9A-F]{32}$/),
  allowed: z
    .object({
      contentTypes: z.array(z.string()),
      maxIssuances: z.number().int().nullable(),
      validitySeconds: z.number().int(),
    })
    .nullable(),
  registration: z
    .object({
      serverInfo: z.object({ name: z.string(), terminalId: z.string() }),
      command: z
        .object({
          commandId: z.string(),
          contentTypes: z.array(z.string()),
          notAfter: z.number().int(),
          maxIssuances: z.number().int().nullable(),
          granted: z.number().int(),
          expired: z.boolean(),
        })
        .optional(),
    })
    .nullable(),
  log: z.array(
    z.object({
      id: z.number().int(),
      at: z.string(),
      senderTerminalId: z.string(),
      kind: z.string(),
      result: z.string(),
      reason: z.string(),
      itemType: z.string().optional(),
      itemId: z.string().optional(),
    }),
  ),
});
export type AuthorityStatus = z.infer<typeof authorityStatusSchema>;

export class HostAuthority implements CommandAuthorityPort {
  private issuer: string | undefined;

  constructor(private readonly client: Pick<HostClient, 'call'>) {}

  async register(request: RegistrationRequest): Promise<RegistrationAck> {
    return registrationAckFromJson(await this.client.call('POST', '/terminal/authority/register', request));
  }

  async authorize(request: AuthorizationRequest): Promise<AuthorizationAck> {
    return authorizationAckFromJson(await this.client.call('POST', '/terminal/authority/authorize', request));
  }

  /** This terminal's allow-list entry, registration and last answers, as the host has them. */
  async status(limit = 10): Promise<AuthorityStatus> {
    const status = await this.client.call<AuthorityStatus>(
      'GET',
      `/terminal/authority/status?limit=${limit}`,
    );
    this.issuer = status.issuerId;
    return status;
  }

  /** The issuer whose items this terminal issues (the authority's), asked once. */
  async issuerId(): Promise<string> {
    return this.issuer ?? (await this.status(1)).issuerId;
  }
}
