import { describe, expect, it } from 'vitest';
import type { Applet } from '../../card-sim/os/applet.js';
import { CardOS } from '../../card-sim/os/card-os.js';
import { PowerLossError } from '../../card-sim/os/persistent-store.js';
import type { CommandApdu } from '../../protocol/apdu.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { CardStatusError } from '../../protocol/status-words.js';

class TestApplet implements Applet {
  readonly aid = fromHex('A000000001');
  transientCleared = 0;
  select(): void {}
  clearTransient(): void {
    this.transientCleared++;
  }
  process(cmd: CommandApdu): Uint8Array {
    if (cmd.ins === 0x01) return new Uint8Array(cmd.p1 * 100).fill(0xab); // p1 * 100 bytes
    if (cmd.ins === 0x02) throw new CardStatusError(0x6982);
    if (cmd.ins === 0x03) throw new TypeError('applet bug');
    if (cmd.ins === 0x04) throw new PowerLossError(0);
    throw new CardStatusError(0x6d00);
  }
}

function card() {
  const applet = new TestApplet();
  const os = new CardOS({ atr: fromHex('3B00'), applets: [applet] });
  os.powerUp();
  return { os, applet };
}
const tx = (os: CardOS, hex: string) => toHex(os.transmit(fromHex(hex)));

describe('card OS', () => {
  it('selects by AID and refuses an unknown AID with 6A82', () => {
    const { os } = card();
    expect(tx(os, '00A4040005A000000002')).toBe('6A82');
    expect(tx(os, '00A4040005A000000001')).toBe('9000');
  });

  it('refuses commands before selection, bad SELECT parameters, logical channels and truncated APDUs', () => {
    const { os } = card();
    expect(tx(os, '8001000000')).toBe('6985');
    expect(tx(os, '00A4000005A000000001')).toBe('6A86');
    expect(tx(os, '01A4040005A000000001')).toBe('6881');
    expect(tx(os, '00A4')).toBe('6700');
  });

  it('turns applet errors into status words, bugs into 6F00', () => {
    const { os } = card();
    tx(os, '00A4040005A000000001');
    expect(tx(os, '8002000000')).toBe('6982');
    expect(tx(os, '8003000000')).toBe('6F00');
    expect(tx(os, '8099000000')).toBe('6D00');
  });

  it('chains long responses with 61XX and GET RESPONSE', () => {
    const { os } = card();
    tx(os, '00A4040005A000000001');
    const first = os.transmit(fromHex('8001030000')); // 300 bytes, Ne = 256
    expect(first.length).toBe(258);
    expect(toHex(first.subarray(256))).toBe('612C');
    const rest = os.transmit(fromHex('00C000002C'));
    expect(rest.length).toBe(46);
    expect(toHex(rest.subarray(44))).toBe('9000');
    expect(tx(os, '00C0000010')).toBe('6985'); // nothing pending any more
    // An extended Le gets everything at once.
    expect(os.transmit(fromHex('80010300000000')).length).toBe(302);
  });

  it('is mute when unpowered and after a power loss, and clears transient state', () => {
    const { os, applet } = card();
    tx(os, '00A4040005A000000001');
    expect(os.transmit(fromHex('8004000000'))).toHaveLength(0);
    expect(os.wasTorn).toBe(true);
    expect(os.transmit(fromHex('8001010000'))).toHaveLength(0);
    expect(applet.transientCleared).toBeGreaterThan(0);
    os.powerUp();
    expect(tx(os, '8001010000')).toBe('6985'); // selection did not survive
  });
});
