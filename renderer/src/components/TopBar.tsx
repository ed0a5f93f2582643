// The terminal's name, the CRL's state at a glance, whether the screen still reaches the terminal,
// who is signed in (with Lock and Sign out), and in kiosk mode the way out (behind the exit PIN).
import type { CrlStatusWire } from '../../../electron/ipc/contract.js';
import type { DeskStateWire } from '../../../electron/ipc/contract-shop.js';

export function TopBar(props: {
  connected: boolean;
  crl: CrlStatusWire | undefined;
  kiosk: boolean;
  onExitKiosk: () => void;
  desk?: DeskStateWire;
  onLock?: () => void;
  onSignOut?: () => void;
}) {
  const { connected, crl } = props;
  return (
    <header className="topbar">
      <h1>Settlement terminal</h1>
      <div className="status">
        {crl && (
          <span className={`pill ${crl.state === 'fresh' ? 'ok' : 'warn'}`} data-testid="crl-pill">
            CRL {crl.state === 'fresh' ? 'up to date' : crl.state === 'stale' ? 'out of date' : 'missing'}
          </span>
        )}
        {props.desk?.state === 'signed-in' && (
          <span className="operator" data-testid="operator">
            {props.desk.operator.name} · {props.desk.operator.role}
            <button type="button" className="small on-dark" onClick={props.onLock}>
              Lock
            </button>
            <button type="button" className="small on-dark" onClick={props.onSignOut}>
              Sign out
            </button>
          </span>
        )}
        <span className={connected ? 'pill ok' : 'pill bad'} role="status" data-testid="connection">
          {connected
            ? 'Connected'
            : 'Not connected to the terminal — reconnecting… (if the terminal was restarted, open the address it printed)'}
        </span>
        {props.kiosk && (
          <button type="button" className="small on-dark" onClick={props.onExitKiosk}>
            Exit kiosk
          </button>
        )}
      </div>
    </header>
  );
}
