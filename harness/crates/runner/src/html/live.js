// The live page: reads serve's event stream as it arrives, polls the faults in force and the
// clock, marks on the timeline where a fault, a heal or a clock move was seen, and heals or
// advances through the admin API. Only the page's own origin is asked.
(function () {
  'use strict';
  var H = window.Harness, d = H.data, ep = d.endpoints, tl = d.timelines[0];
  var box = document.querySelector('.timeline[data-live]');
  var statusLine = document.getElementById('status');
  var counts = {};
  Array.prototype.forEach.call(document.querySelectorAll('[data-count]'), function (e) {
    counts[e.getAttribute('data-count')] = e;
  });
  var codeIndex = {};
  d.catalog.codes.forEach(function (c, i) { codeIndex[c[0]] = i; });
  var lanes = {}, t0 = null, lastSeq = 0, dirty = true;

  function setStatus(state, text) {
    statusLine.setAttribute('data-state', state);
    statusLine.className = 'verdict ' + (state === 'live' ? 'pass' : state === 'error' ? 'fail' : 'info');
    statusLine.textContent = text;
  }
  function reset() {
    tl.events = []; tl.lanes = []; tl.steps = []; lanes = {}; t0 = null; lastSeq = 0; dirty = true;
  }
  function add(rec) {
    var det = rec.details || {};
    var lane = det.request_id ? 'request ' + det.request_id : det.device_id ? 'device ' + det.device_id : 'connector';
    if (!(lane in lanes)) { lanes[lane] = tl.lanes.length; tl.lanes.push(lane); }
    var t = Date.parse(rec.time);
    if (t0 === null) { t0 = t; tl.t0 = rec.time; }
    var text = Object.keys(det).sort().map(function (k) { return k + '=' + det[k]; }).join('; ');
    lastSeq = rec.seq;
    tl.events.push([rec.seq, t - t0, rec.event_id, codeIndex[rec.code] || 0, lanes[lane], text]);
    dirty = true;
  }
  function mark(kind, label) {
    tl.steps.push([kind, 0, lastSeq + 1, lastSeq, label]);
    dirty = true;
  }

  function stream() {
    fetch(ep.events, { cache: 'no-store' }).then(function (r) {
      if (!r.ok || !r.body) { throw new Error('HTTP ' + r.status); }
      reset();
      setStatus('live', '● live: events as they arrive');
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) { setStatus('ended', '■ the event stream ended (serve stopped)'); return undefined; }
          buf += dec.decode(x.value, { stream: true });
          var lines = buf.split('\n');
          buf = lines.pop();
          lines.forEach(function (l) {
            if (!l.trim()) { return; }
            try { add(JSON.parse(l)); } catch (e) { mark('other', 'unreadable line'); }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      setStatus('error', '✗ cannot read the event stream: ' + e.message + ' (retrying)');
      setTimeout(stream, 2000);
    });
  }

  var known = null, lastClock = null;
  function send(method, path, body) {
    var init = { method: method };
    if (body) { init.body = JSON.stringify(body); init.headers = { 'content-type': 'application/json' }; }
    return fetch(path, init).then(poll, function () { return undefined; });
  }
  function faults(list) {
    var table = document.getElementById('fault-table'), tbody = table.querySelector('tbody');
    tbody.textContent = '';
    table.hidden = list.length === 0;
    document.getElementById('fault-empty').hidden = list.length > 0;
    var now = {};
    list.forEach(function (f) {
      var kind = f.kind + (f.status ? ' ' + f.status : '') + (f.code ? ' ' + f.code : '');
      now[f.target] = kind;
      var tr = document.createElement('tr');
      [f.target, '⚡ ' + kind, f.times === undefined ? 'until healed' : String(f.times)].forEach(function (v) {
        var td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
      });
      var td = document.createElement('td'), b = document.createElement('button');
      b.type = 'button'; b.textContent = '✚ heal';
      b.addEventListener('click', function () { send('DELETE', ep.faults + '/' + encodeURIComponent(f.target)); });
      td.appendChild(b); tr.appendChild(td); tbody.appendChild(tr);
    });
    if (known !== null) {
      Object.keys(now).forEach(function (t) { if (known[t] !== now[t]) { mark('fault', 'fault ' + t + ': ' + now[t]); } });
      Object.keys(known).forEach(function (t) { if (!(t in now)) { mark('heal', 'heal ' + t); } });
    }
    known = now;
  }
  function clock(c) {
    counts.clock.textContent = c.now;
    counts.mode.textContent = c.mode;
    if (lastClock !== null && c.mode === 'frozen' && c.now !== lastClock) { mark('advance', 'clock → ' + c.now); }
    lastClock = c.now;
  }
  function poll() {
    return Promise.all([
      fetch(ep.faults, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(faults),
      fetch(ep.clock, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(clock)
    ]).catch(function () { return undefined; });
  }

  document.getElementById('heal-all').addEventListener('click', function () { send('DELETE', ep.faults); });
  document.getElementById('advance').addEventListener('submit', function (e) {
    e.preventDefault();
    send('POST', ep.advance, { by: e.target.elements.by.value });
  });
  setInterval(poll, 1000);
  setInterval(function () {
    if (!dirty) { return; }
    dirty = false;
    counts.events.textContent = String(tl.events.length);
    H.render(box, tl, -1);
  }, 500);
  poll();
  stream();
}());
