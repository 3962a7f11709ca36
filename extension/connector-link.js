// The connector link's shell: carries out what the core's ConnectorSession decides.
// It owns the probe fetches, the one WebSocket to the local DATEV connector and one timer;
// which port, when to greet, whose connector it is, when to retry and for how long all
// come from the core (core/src/session.rs). Effects that are not about sockets go to the
// caller's hooks.
import { ConnectorSession } from './wasm/cti_core.js';

/**
 * @typedef {{ extension: string, domain?: string, webclientVersion?: string,
 *             userName?: string, bridgePort?: number, lastGoodPort?: number, acceptedExtension?: string }} LinkConfig
 * @typedef {{ kind: 'dial', number: string } | { kind: 'drop', callId?: string | null }} LinkCommand
 * @typedef {{ state: 'waiting' | 'searching' | 'connecting' | 'ready', port: number | null,
 *             foreign: { port: number, extension: string, ownPort: boolean } | null,
 *             noAckPort: number | null, accepted: string | null }} LinkStatus
 * @typedef {{ kind: 'probe', generation: number, ports: number[], timeoutMs: number }
 *   | { kind: 'connect', port: number, generation: number }
 *   | { kind: 'send', generation: number, text: string }
 *   | { kind: 'close', generation: number }
 *   | { kind: 'ready', generation: number, port: number }
 *   | { kind: 'down', generation: number, byConnector: boolean }
 *   | { kind: 'rememberPort', port: number }
 *   | { kind: 'command', command: LinkCommand }
 *   | { kind: 'status', status: LinkStatus }
 *   | { kind: 'log', line: string }} LinkEffect
 * @typedef {{ onReady(generation: number, port: number): void, onDown(generation: number, byConnector: boolean): void,
 *             onCommand(cmd: LinkCommand): void, onStatus(status: LinkStatus): void,
 *             onRememberPort(port: number): void, log(line: string): void }} LinkHooks
 * @typedef {{ setConfig(cfg: LinkConfig): void, send(generation: number, text: string): boolean,
 *             status(): LinkStatus }} ConnectorLink
 */

/**
 * `GET http://127.0.0.1:PORT/`: the connector answers `OK`. A fetch (not a WebSocket) so
 * that refused ports stay out of the extension's error page.
 * @param {number} port
 * @param {number} timeoutMs
 * @returns {Promise<boolean>}
 */
async function probe(port, timeoutMs) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
    return r.status === 200 && (await head(r, PROBE_BODY_MAX)).trim() === 'OK';
  } catch (_) {
    return false;
  } finally {
    clearTimeout(timer);
    ctl.abort(); // whatever of the body was not read
  }
}

/** The connector's answer to the probe is `OK`; a body longer than this is not it. */
const PROBE_BODY_MAX = 64;

/**
 * The body's text, or '' when it is longer than `max` bytes (read no further than that:
 * whoever answers on the port chooses the size).
 * @param {Response} r @param {number} max @returns {Promise<string>}
 */
async function head(r, max) {
  if (!r.body) return '';
  const reader = r.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) return '';
    chunks.push(value);
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

/**
 * @param {LinkHooks} hooks
 * @returns {ConnectorLink}
 */
export function createConnectorLink(hooks) {
  const session = new ConnectorSession();
  /** The longest text the core takes from the connector, in bytes, so in UTF-16 units too
   * (asked here: the module is loaded by now, not when this file is imported). */
  const TEXT_MAX = ConnectorSession.textMax();
  /** @type {WebSocket | null} */
  let socket = null;
  let socketGeneration = -1;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** Runs one input into the core, then carries out everything it decided. */
  function feed(/** @type {(now: number) => void} */ input) {
    input(Date.now());
    /** @type {LinkEffect[]} */
    const effects = session.poll();
    for (const e of effects) apply(e);
    clearTimeout(timer);
    const at = session.pollTimeout();
    if (at !== undefined) {
      timer = setTimeout(() => feed((now) => session.handleTimeout(now)), Math.max(0, at - Date.now()));
    }
  }

  /** @param {LinkEffect} e */
  function apply(e) {
    switch (e.kind) {
      case 'probe':
        for (const port of e.ports) {
          probe(port, e.timeoutMs).then((ok) => feed((now) => session.handleProbeResult(e.generation, port, ok, now)));
        }
        break;
      case 'connect':
        open(e.port, e.generation);
        break;
      case 'send':
        if (socket && socketGeneration === e.generation && socket.readyState === WebSocket.OPEN) socket.send(e.text);
        break;
      case 'close':
        if (socket && socketGeneration === e.generation) {
          socket.close();
          socket = null;
        }
        break;
      case 'ready': hooks.onReady(e.generation, e.port); break;
      case 'down': hooks.onDown(e.generation, e.byConnector); break;
      case 'rememberPort': hooks.onRememberPort(e.port); break;
      case 'command': hooks.onCommand(e.command); break;
      case 'status': hooks.onStatus(e.status); break;
      case 'log': hooks.log(e.line); break;
    }
  }

  /**
   * @param {number} port
   * @param {number} generation
   */
  function open(port, generation) {
    if (socket) socket.close(); // the core closes first; this only guards a shell slip
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    socket = ws;
    socketGeneration = generation;
    ws.onopen = () => feed((now) => session.handleOpen(generation, now));
    ws.onmessage = (ev) => feed((now) => {
      // Anything on 127.0.0.1 may answer here: a text too long for the core is measured,
      // not copied into it (its memory, once grown, stays grown).
      if (typeof ev.data !== 'string') session.handleBinary(generation, now);
      else if (ev.data.length > TEXT_MAX) session.handleOversizedText(generation, ev.data.length);
      else session.handleText(generation, ev.data, now);
    });
    ws.onclose = () => {
      if (socket === ws) socket = null;
      feed((now) => session.handleClose(generation, now));
    };
  }

  return {
    setConfig(cfg) {
      feed((now) => session.setConfig(cfg.extension || '', cfg.domain || '', cfg.webclientVersion || '',
        cfg.userName || '', cfg.bridgePort || 0, cfg.lastGoodPort || 0, cfg.acceptedExtension || '', now));
    },
    send(generation, text) {
      if (!session.canSend(generation) || !socket || socketGeneration !== generation) return false;
      if (socket.readyState !== WebSocket.OPEN) return false;
      socket.send(text);
      return true;
    },
    status() {
      return session.status();
    },
  };
}
