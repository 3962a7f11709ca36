// The connector link and the PestRoutes event stream, wired to the core in the same
// document: what the core wants sent to the connector leaves on the link's socket at once,
// and what the link and the stream report goes into the core.
import { currentSettings, log, onEffect, onModule, onSettings, withCore } from './doc-core.js';
import { onWorker, toWorker } from './doc-worker.js';
import { createConnectorLink } from './connector-link.js';
import { createPestRoutesStream } from './pestroutes-stream.js';

// The link's and the stream's own lines stay in this document's console, as they always did.
const linkLog = (/** @type {string} */ line) => console.log('[3CX Bridge link]', line);
/** The port the connector last answered on (the worker keeps it in storage.local). */
let lastGoodPort = 0;
onWorker('attach', (/** @type {{restore: Restore | null}} */ m) => { if (m.restore) lastGoodPort = m.restore.lastGoodPort; });

/** @type {import('./connector-link.js').ConnectorLink} */
let link;
/** @type {ReturnType<typeof createPestRoutesStream>} */
let stream;
// Made once the module is loaded; before that the core is not either, so nothing asks for them.
onModule(() => {
  link = createConnectorLink({
    onReady(generation) { withCore((c) => c.handleLinkReady(generation, Date.now())); },
    onDown(generation, byConnector) { withCore((c) => c.handleLinkDown(generation, byConnector)); },
    onCommand(command) {
      withCore((c) => {
        try {
          c.handleCommand(JSON.stringify(command), Date.now());
        } catch (e) {
          log('command refused:', /** @type {Error} */ (e).message);
        }
      });
    },
    onStatus(status) { withCore((c) => c.handleLinkReport(JSON.stringify(status), Date.now())); },
    onRememberPort(port) {
      lastGoodPort = port;
      toWorker({ kind: 'rememberPort', port });
    },
    log: linkLog,
  });

  stream = createPestRoutesStream({
    onStatus(status) { withCore((c) => c.handleStreamReport(JSON.stringify(status))); },
    onScreenPop(pop) { toWorker({ kind: 'screenPop', pop }); },
    log: linkLog,
  });
});

// The core hands each text once per connector session: a page's resend is recognised as a
// repeat (page id, sequence number), and the link dies with the document that held the core.
// A text the link cannot send (the connector has begun to close the socket, and its close
// event is not here yet; or the session went down earlier in this turn) is said at once,
// before the core's state is stored: the core then keeps the calls that ended in it for
// the next session.
onEffect('toConnector', (/** @type {{generation: number, seq: number, text: string}} */ e) => {
  if (!link.send(e.generation, e.text)) withCore((c) => c.handleLinkUnsent(e.generation, e.seq, Date.now()));
});

/** Hands the link and the stream their configuration (from the core and the settings). */
function configure() {
  withCore((c) => {
    const cfg = c.linkConfig();
    link.setConfig({ ...cfg, lastGoodPort });
    stream.setConfig({ serverAddress: c.streamAddress(), sharedSecret: currentSettings().sharedSecret, agent: cfg.extension });
  });
}
onEffect('linkConfig', configure);
onSettings(configure);

// What only the worker can find out: the hosts the extension may not reach yet, and how a
// screen-pop in the PestRoutes tab went.
onWorker('missingHosts', (/** @type {{hosts: string[]}} */ m) => withCore((c) => c.setMissingHosts(m.hosts)));
onWorker('popResult', (/** @type {WorkerToDoc & {kind: 'popResult'}} */ m) =>
  withCore((c) => c.handlePopResult(m.term, m.key, m.args, m.ok, Date.now())));
