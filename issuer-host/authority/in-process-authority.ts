// The in-process transport to the command-generating authority: the same JSON a network transport
// would carry, round-tripped, so the issuing terminal sees exactly what it would see over the wire.
import {
  type AuthorizationAck,
  ackFromJson,
  type CommandAuthorityPort,
  type RegistrationAck,
} from '../../protocol/issuing/authority-protocol.js';
import type { CommandAuthority } from './command-authority.js';

export class InProcessAuthority implements CommandAuthorityPort {
  constructor(readonly authority: CommandAuthority) {}

  async register(request: unknown): Promise<RegistrationAck> {
    return ackFromJson<RegistrationAck>(wire(this.authority.register(wire(request))));
  }

  async authorize(request: unknown): Promise<AuthorizationAck> {
    return ackFromJson<AuthorizationAck>(wire(this.authority.authorize(wire(request))));
  }
}

function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
