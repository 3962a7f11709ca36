// The popup: what works and what does not, at a glance, and the settings.
const $ = (sel) => document.querySelector(sel);

function row(id, cls, text) {
  const el = $(`#${id}`);
  el.className = `row ${cls}`;
  el.querySelector('.value').textContent = text;
}

// What each connector state means to an operator.
function connectorText(link) {
  switch (link.state) {
    case 'ready': return ['ok', `connected on port ${link.port}, HELLO acknowledged`];
    case 'connected': case 'connecting': return ['busy', `connecting on port ${link.port}…`];
    case 'searching': return ['busy', 'searching for the connector…'];
    case 'waiting': return ['busy', 'waiting for the WebClient (extension number)'];
    default: return ['bad', 'off'];
  }
}

function streamText(s) {
  switch (s && s.state) {
    case 'connected': return ['ok', `connected as agent ${s.agent}`];
    case 'connecting': return ['busy', 'connecting…'];
    case 'forbidden': return ['bad', 'forbidden: check the secret'];
    case 'badRequest': return ['bad', 'refused: check the extension number'];
    case 'unreachable': return ['bad', 'server unreachable'];
    case 'unconfigured': return ['', 'not configured'];
    default: return ['', 'off'];
  }
}

function list(id, items, render) {
  const ul = $(`#${id}`);
  ul.replaceChildren();
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'none';
    ul.append(li);
  }
  for (const it of items) {
    const li = document.createElement('li');
    li.textContent = render(it);
    ul.append(li);
  }
}

async function refresh() {
  let st;
  try {
    st = await chrome.runtime.sendMessage({ type: 'popupStatus' });
  } catch (e) {
    row('connector', 'bad', 'extension not responding');
    return;
  }
  row('webclient', st.webclient ? 'ok' : 'bad',
    st.webclient ? `tab found, extension ${st.webclient.extension || '(unknown)'}` : 'no WebClient tab open');
  const [cls, text] = connectorText(st.link || {});
  row('connector', cls, text + (st.link && st.link.queued ? ` · ${st.link.queued} events held` : ''));
  const [scls, stext] = streamText(st.stream);
  row('stream', scls, stext);
  list('calls', st.calls, (c) => `${c.direction === 'inbound' ? '⬅' : '➡'} ${c.number || 'unknown number'}${c.name ? ` (${c.name})` : ''} · ${c.state}`);
  list('pops', st.screenPops || [], (p) => `${new Date(p.at).toLocaleTimeString()} · ${p.term || '—'} · ${p.outcome}`);
}

let loaded = CtiSettings.DEFAULTS; // the settings in force, for the submit handler

async function loadForm() {
  const { values, managedKeys } = await CtiSettings.load();
  loaded = values;
  const form = $('#settings');
  for (const el of form.elements) {
    if (!el.name) continue;
    const v = values[el.name];
    if (el.type === 'checkbox') el.checked = !!v;
    else if (el.name === 'webclientOrigins') el.value = v.join(' ');
    else if (el.name === 'sharedSecret') { el.value = ''; el.placeholder = v ? 'saved (hidden)' : ''; }
    else el.value = v === 0 && el.name === 'bridgePort' ? '' : v;
    el.disabled = managedKeys.includes(el.name);
  }
  $('#managed-note').hidden = !managedKeys.length;
}

$('#settings').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = {};
  const bad = [];
  for (const el of e.target.elements) {
    if (!el.name || el.disabled) continue;
    if (el.name === 'sharedSecret' && el.value === '') continue; // keep the saved secret
    const raw = el.type === 'checkbox' ? el.checked : el.value;
    const v = CtiSettings.clean(el.name, raw);
    if (v === undefined) bad.push(el.name); else out[el.name] = v;
  }
  if (bad.length) {
    $('#saved').textContent = `not saved: check ${bad.join(', ')}`;
    return;
  }
  // The middleware and PestRoutes live on the office's own hosts: ask for access to just
  // those two origins (this click is the user gesture Chrome requires).
  // Policy-set values count too: they are what the extension will use. No await before
  // permissions.request: it must run within the click's user gesture.
  const effective = { ...loaded, ...out };
  const origins = [];
  if (effective.serverAddress) {
    const a = /^https?:\/\//i.test(effective.serverAddress) ? effective.serverAddress : `http://${effective.serverAddress}`;
    const o = CtiSettings.origin(a);
    if (o) origins.push(`${o}/*`); else bad.push('serverAddress');
  }
  if (effective.pestroutesUrl) {
    const o = CtiSettings.origin(effective.pestroutesUrl);
    if (o) origins.push(`${o}/*`); else bad.push('pestroutesUrl');
  }
  if (bad.length) {
    $('#saved').textContent = `not saved: check ${bad.join(', ')}`;
    return;
  }
  if (origins.length) {
    const granted = await chrome.permissions.request({ origins }).catch(() => false);
    if (!granted) {
      $('#saved').textContent = 'not saved: access to the PestRoutes hosts was refused';
      return;
    }
  }
  await chrome.storage.local.set(out);
  $('#saved').textContent = 'saved';
  loadForm();
});

loadForm();
refresh();
setInterval(refresh, 1000);
