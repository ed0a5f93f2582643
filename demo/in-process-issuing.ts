// The demo's issuing terminal: since the command-generating server runs on the issuer host (the demo
// starts one beside the terminal, demo/demo-host.ts), the terminal's own issuing services are what
// the demo uses; this module stays where the screen's and the CLI's wiring import it from.
export { type IssuingServices, startIssuing } from '../electron/services/issuing/issuing-services.js';
