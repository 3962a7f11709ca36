// A PestRoutes-like page on loopback: the customer search is an <input id="customerSearch">
// driven by the real jQuery UI autocomplete (from npm); choosing a result opens the
// customer's record. Customers are searchable by phone (digits) and by id. The contact
// block holds a phone number as PestRoutes marks it (a "phone" class) and a tel: link.
'use strict';
const http = require('node:http');
const https = require('node:https');
const fs = require('node:fs');
const path = require('node:path');

const NM = path.resolve(__dirname, '..', '..', 'node_modules');
const FILES = {
  '/js/jquery.js': path.join(NM, 'jquery', 'dist', 'jquery.min.js'),
  '/js/jquery-ui.js': path.join(NM, 'jquery-ui', 'dist', 'jquery-ui.min.js'),
  '/css/jquery-ui.css': path.join(NM, 'jquery-ui', 'dist', 'themes', 'base', 'jquery-ui.min.css'),
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>PestRoutes (simulated)</title>
<link rel="stylesheet" href="/css/jquery-ui.css">
<script src="/js/jquery.js"></script><script src="/js/jquery-ui.js"></script>
</head><body>
<label>Search <input id="customerSearch"></label>
<div id="record">no customer open</div>
<div id="contact">Phone <span class="customer-phone">(555) 123-4567</span>
  Mobile <a id="mobile" href="tel:+1-555-987-6543">+1 555 987 6543</a>
  Notes <span id="notes">call back after 5</span></div>
<script>
  const customers = [
    { id: '12345', name: 'Ann Smith', phone: '(555) 123-4567' },
    { id: '777', name: 'Bob Jones', phone: '555-987-6543' },
  ];
  const digits = (s) => String(s).replace(/\\D/g, '');
  $('#customerSearch').autocomplete({
    minLength: 3,
    delay: 50,
    source: (req, respond) => setTimeout(() => respond(customers
      .filter((c) => c.id === req.term || (digits(req.term).length >= 7 && digits(c.phone).includes(digits(req.term))))
      .map((c) => ({ label: c.name + ' #' + c.id + ' ' + c.phone, value: c.id, id: c.id }))), 80),
    select: (e, ui) => {
      document.getElementById('record').textContent = 'Customer ' + ui.item.id;
      window.opened = (window.opened || []).concat(ui.item.id);
    },
  });
</script></body></html>`;

class PestRoutesPage {
  constructor() {
    /** @type {import('node:http').Server} */
    this.server;
    this.port = 0;
    this.url = '';
  }

  /** @param {{tls?: {key: string, cert: string}, host?: string}} [opts] https with this
   * certificate, under this host name (mapped to 127.0.0.1 by the browser's resolver rules) */
  async start({ tls, host = '127.0.0.1' } = {}) {
    /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
    const handler = (req, res) => {
      const route = (req.url || '/').split('?')[0];
      const file = /** @type {Record<string, string>} */ (FILES)[route];
      if (file) {
        res.writeHead(200, { 'Content-Type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
        return fs.createReadStream(file).pipe(res);
      }
      if (route === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(PAGE);
      }
      if (route.startsWith('/blank')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<!doctype html><title>no search here</title><p>settings page');
      }
      res.writeHead(404);
      return res.end();
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise((r) => this.server.listen(0, '127.0.0.1', () => r(undefined)));
    this.port = /** @type {import('node:net').AddressInfo} */ (this.server.address()).port;
    this.url = `${tls ? 'https' : 'http'}://${host}:${this.port}/`;
    return this;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

module.exports = { PestRoutesPage };
