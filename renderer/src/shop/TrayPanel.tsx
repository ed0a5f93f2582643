// The demo card tray (the browser host with simulated cards only): every demo card and where it is —
// in the payer slot, in the payee slot, or on the tray — with the moves a hand would make: take a card
// out, put one into an empty slot. Taking a card out in the middle of an operation interrupts it, as
// pulling a real card does.
import { useCallback, useEffect, useState } from 'react';
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import type { TrayViewWire } from '../../../electron/ipc/contract-shop.js';
import { ErrorLine } from '../components/ErrorLine.js';
import type { TerminalApi } from '../terminal-api.js';

const PLACE: Record<string, string> = { payer: 'Payer slot', payee: 'Payee slot', tray: 'On the tray' };

export function useTray(api: TerminalApi) {
  const [tray, setTray] = useState<TrayViewWire | undefined>();
  const [error, setError] = useState<ErrorInfo | undefined>();
  const refresh = useCallback(async () => {
    const r = await api.call('tray:status');
    if (r.ok) setTray(r.value);
  }, [api]);
  useEffect(() => {
    void refresh();
    const offs = [
      api.on('card-inserted', () => void refresh()),
      api.on('card-removed', () => void refresh()),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api, refresh]);
  const move = useCallback(
    async (card: string, to: 'payer' | 'payee' | 'tray') => {
      // Not through the card queue: a hand pulls a card whatever the terminal is doing.
      const r = await api.call('tray:move', { card, to });
      if (r.ok) setTray(r.value);
      setError(r.ok ? undefined : r.error);
    },
    [api],
  );
  return { tray, error, move };
}

export function TrayPanel({ tray: t }: { tray: ReturnType<typeof useTray> }) {
  const cards = t.tray?.cards ?? [];
  const occupied = (slot: 'payer' | 'payee') => cards.some((c) => c.place === slot);
  return (
    <section className="tray" aria-label="Demo card tray" data-testid="tray">
      <p className="note">Simulated cards: take one out of its slot, or put another in, as a hand would.</p>
      {t.error && <ErrorLine error={t.error} testId="tray-error" />}
      <table>
        <thead>
          <tr>
            <th scope="col">Card</th>
            <th scope="col">Shows</th>
            <th scope="col">Where</th>
            <th scope="col">Move</th>
          </tr>
        </thead>
        <tbody>
          {cards.map((c) => (
            <tr key={c.id} data-testid={`tray-card-${c.id}`} data-place={c.place}>
              <th scope="row">{c.label}</th>
              <td>{c.note}</td>
              <td>{PLACE[c.place]}</td>
              <td>
                <div className="tray-moves">
                  {c.place === 'tray' ? (
                    (['payer', 'payee'] as const).map((slot) => (
                      <button
                        key={slot}
                        type="button"
                        className="small"
                        disabled={occupied(slot)}
                        aria-label={`Into ${slot} slot: ${c.label}’s card`}
                        onClick={() => void t.move(c.id, slot)}
                      >
                        Into {slot}
                      </button>
                    ))
                  ) : (
                    <button
                      type="button"
                      className="small"
                      aria-label={`Take out ${c.label}’s card`}
                      onClick={() => void t.move(c.id, 'tray')}
                    >
                      Take out
                    </button>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
