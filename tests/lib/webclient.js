// The usual stage for a DATEV scenario: a simulated PBX and connector for one extension,
// Chromium with the extension, the WebClient open on a trusted origin, the connector
// session up. `stop()` takes it all down.
'use strict';
const { launch, waitFor } = require('./harness');
const { Pbx } = require('./pbx');
const { Connector } = require('./connector');

/**
 * @param {string} ext
 * @param {{args?: string[], pbx?: ConstructorParameters<typeof Pbx>[0]}} [opts] `pbx`: options of
 *   the simulated PBX and its WebClient page (e.g. `selectedDevice: '3CX WebRTC proxy'`,
 *   `staleDialer: true`, `registrations: []`), see tests/lib/pbx.js
 */
async function webClientStage(ext, { args, pbx: pbxOpts = {} } = {}) {
  const pbx = await new Pbx({ ...pbxOpts, extension: ext }).start();
  const conn = await new Connector({ port: 19800 + Number(ext) }).start();
  const h = await launch({ args });
  await h.openWebClient(pbx);
  await waitFor(() => conn.client, 15000, 'connector session');
  return {
    h, pbx, conn,
    async stop() {
      await h.close();
      await pbx.stop();
      await conn.stop();
    },
  };
}

module.exports = { webClientStage };
