// Entry of the operator screen: takes this run's token from the address, connects, renders.
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles.css';
import { connectTerminal, takeTokenFromLocation } from './terminal-api.js';

const root = createRoot(document.getElementById('root') as HTMLElement);
const token = takeTokenFromLocation();
if (token) {
  root.render(<App api={connectTerminal(token)} />);
} else {
  root.render(
    <main className="app">
      <h1>Settlement terminal</h1>
      <p className="error" role="alert">
        This address has no access token. Open the address the terminal printed when it started.
      </p>
    </main>,
  );
}
