// The card OS interface every transport plugs into (after vsmartcard's vicc): ATR, power up,
// power down, reset, and execute one APDU. transmit() never throws: every failure is a status word.
// It lives in protocol/ (like jCardSim's CardInterface) so that the terminal's simulated reader
// slots can hold a card without depending on the simulator that implements it (card-sim/os/card-os.ts).

export interface VirtualCard {
  readonly atr: Uint8Array;
  powerUp(): void;
  powerDown(): void;
  reset(): void;
  transmit(apdu: Uint8Array): Uint8Array;
  /**
   * How long, in ms, the answer transmit() just returned should take to reach the reader beyond the
   * simulator's own time (a real-time latency model, card-sim/transport/latency-card.ts). Transports
   * that honour it (in-process channel, vpcd connector) hold the answer back that long; absent or 0: none.
   */
  answerDelayMs?(): number;
}
