// Quick run of the APDU fuzzer in `npm test`; the soak command runs the same core with large counts.
import { describe, expect, it } from 'vitest';
import { encodeCommandApdu } from '../../protocol/apdu.js';
import { INS, SETTLEMENT_AID } from '../../protocol/settlement/commands.js';
import { probeCard, runApduFuzz } from './apdu-fuzz.js';
import { buildFixture, makeFuzzCard } from './fuzz-cards.js';

describe('APDU fuzz of the card simulator', () => {
  it('answers every hostile command with a status word and never corrupts its state', async () => {
    const report = await runApduFuzz({ seed: 6_001, runs: 100 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(100);
    // The hostile commands did reach the cards, of every kind, and some were accepted.
    for (const kind of ['mutate', 'replay', 'graft', 'made-up', 'raw']) {
      expect(report.stats[`hostile ${kind}`], kind).toBeGreaterThan(0);
    }
    expect(report.stats['answered 9000 unchanged']).toBeGreaterThan(0);
    expect(report.stats['answered 6700']).toBeGreaterThan(0);
  });

  it('replays a run exactly from its seed', async () => {
    const first = await runApduFuzz({ seed: 17, runs: 15 });
    const again = await runApduFuzz({ seed: 17, runs: 15 });
    expect(again.stats).toEqual(first.stats);
  });

  describe('notices a card that breaks a property', () => {
    const fixture = buildFixture();
    const card = () => {
      const c = makeFuzzCard('sabotaged', fixture.templates.payer);
      c.sim.os.powerUp();
      return c;
    };
    const badLength = encodeCommandApdu({
      cla: 0x80,
      ins: INS.INITIATE_DEBIT,
      p1: 0,
      p2: 0,
      data: new Uint8Array(3),
    });

    it('a refusal that changes persistent state', () => {
      const c = card();
      const transmit = c.sim.os.transmit.bind(c.sim.os);
      c.sim.os.transmit = (apdu) => {
        const response = transmit(apdu);
        c.backend.store(c.image().replace('"balance": 10000', '"balance": 9999'));
        return response;
      };
      expect(() => probeCard(c, badLength)).toThrow(/changed persistent state/);
    });

    it('an answer without a status word', () => {
      const c = card();
      c.sim.os.transmit = () => Uint8Array.of(0x90);
      expect(() => probeCard(c, badLength)).toThrow(/no status word/);
    });

    it('an exception inside the applet (6F00)', () => {
      const c = card();
      c.sim.store.read = () => {
        throw new TypeError('bug');
      };
      const select = encodeCommandApdu({ cla: 0x00, ins: INS.SELECT, p1: 4, p2: 0, data: SETTLEMENT_AID });
      expect(() => probeCard(c, select)).not.toThrow();
      expect(() =>
        probeCard(c, encodeCommandApdu({ cla: 0x80, ins: INS.GET_CARD_INFO, p1: 0, p2: 0, ne: 256 })),
      ).toThrow(/6F00/);
    });

    it('a persistent image outside the schema', () => {
      const c = card();
      c.backend.store(c.image().replace('"balance": 10000', '"balance": -1'));
      expect(() => probeCard(c, badLength)).toThrow(/does not parse/);
    });
  });
});
