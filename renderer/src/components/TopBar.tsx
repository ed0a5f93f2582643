// The terminal's name, the CRL's state at a glance, and whether the screen still reaches the terminal.
import type { CrlStatusWire } from '../../../electron/ipc/contract.js';

export function TopBar({ connected, crl }: { connected: boolean; crl: CrlStatusWire | undefined }) {
  return (
    <header className="topbar">
      <h1>Settlement terminal</h1>
      <div className="status">
        {crl && (
          <span className={`pill ${crl.state === 'fresh' ? 'ok' : 'warn'}`} data-testid="crl-pill">
            CRL {crl.state === 'fresh' ? 'up to date' : crl.state === 'stale' ? 'out of date' : 'missing'}
          </span>
        )}
        <span className={connected ? 'pill ok' : 'pill bad'} role="status">
          {connected ? 'Connected' : 'Disconnected — restart the terminal and open its new address'}
        </span>
      </div>
    </header>
  );
}
