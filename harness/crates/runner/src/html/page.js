// The page's script: draws a timeline when its section opens (so a page of 1,000 scenarios or
// 100,000 events stays quick), filters the scenarios, and exposes `window.Harness.render` for
// the live page. No library, nothing fetched; the data is the page's own JSON.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('page-data').textContent);
  var cat = data.catalog;
  var allowed = {};
  cat.pairs.forEach(function (p) { allowed[p] = true; });
  var PAGE = 400, COL = 76, ROW = 30, LABEL = 190;
  var LEVEL = { Information: ['info', 'ℹ'], Warning: ['warn', '⚠'], Error: ['fail', '✗'] };
  var STEP = { fault: ['fault', '⚡'], heal: ['heal', '✚'], advance: ['advance', '⏩'] };

  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined && txt !== null) { e.textContent = txt; }
    return e;
  }
  function iso(t0, ms) {
    return new Date(Date.parse(t0) + ms).toISOString().replace('.000Z', 'Z');
  }
  function place(e, x, y, w) {
    e.style.left = x + 'px';
    e.style.top = y + 'px';
    if (w) { e.style.width = w + 'px'; }
  }

  // Events and steps in stream order: a step goes before the first event it wrote, or, when
  // it wrote none, before the next event written.
  function items(tl) {
    var out = [], s = 0, steps = tl.steps;
    tl.events.forEach(function (ev) {
      while (s < steps.length && steps[s][2] <= ev[0]) { out.push({ step: steps[s] }); s += 1; }
      out.push({ ev: ev });
    });
    while (s < steps.length) { out.push({ step: steps[s] }); s += 1; }
    return out;
  }

  function describe(tl, ev) {
    var info = cat.events[ev[2]] || ['unknown event', 'Error'];
    var code = cat.codes[ev[3]] || ['?', '?'];
    var ok = allowed[ev[2] + ' ' + code[0]] === true;
    var text = '#' + ev[0] + ' at ' + iso(tl.t0, ev[1]) + ': ' + ev[2] + ' ' + info[0] +
      ' (' + info[1] + '), ' + code[0] + ' ' + code[1] + (ev[5] ? '; ' + ev[5] : '') +
      (ok ? '' : '; NOT a catalog pair');
    return { info: info, ok: ok, text: text };
  }

  // Draws `tl` into `box`, PAGE items from `start` (-1: the last PAGE).
  function render(box, tl, start) {
    var all = items(tl), n = all.length;
    if (start < 0) { start = Math.max(0, n - PAGE); }
    start = Math.max(0, Math.min(start, Math.max(0, n - 1)));
    box.textContent = '';
    var last = tl.events.length ? tl.events[tl.events.length - 1][1] : 0;
    box.appendChild(el('p', 'muted', tl.events.length + ' event(s) in ' + tl.lanes.length +
      ' lane(s), ' + tl.steps.length + ' step(s); scenario time ' + iso(tl.t0, 0) + ' to ' + iso(tl.t0, last)));
    if (n > PAGE) {
      var nav = el('p', 'tl-nav');
      var prev = el('button', '', '◀ earlier'), next = el('button', '', 'later ▶');
      prev.type = next.type = 'button';
      prev.disabled = start === 0;
      next.disabled = start + PAGE >= n;
      prev.addEventListener('click', function () { render(box, tl, Math.max(0, start - PAGE)); });
      next.addEventListener('click', function () { render(box, tl, start + PAGE); });
      nav.appendChild(prev);
      nav.appendChild(el('span', '', ' items ' + (start + 1) + '–' + Math.min(n, start + PAGE) + ' of ' + n + ' '));
      nav.appendChild(next);
      box.appendChild(nav);
    }
    var slice = all.slice(start, start + PAGE);
    var scroll = el('div', 'tl-scroll');
    var grid = el('div', 'tl');
    var height = (tl.lanes.length + 2) * ROW;
    grid.style.width = (LABEL + slice.length * COL) + 'px';
    grid.style.height = height + 'px';
    ['steps', 'scenario time'].concat(tl.lanes).forEach(function (name, i) {
      var lab = el('div', 'tl-lane', name);
      lab.title = name;
      place(lab, 0, i * ROW, LABEL - 6);
      grid.appendChild(lab);
    });
    var lastT = null, lastDay = null, drawn = 0;
    slice.forEach(function (it, i) {
      var x = LABEL + i * COL;
      if (it.step) {
        var st = it.step, kind = STEP[st[0]] || ['other', '▸'];
        var chip = el('div', 'tl-step tl-' + kind[0], kind[1] + ' ' + st[4]);
        chip.title = (st[1] ? 'step at line ' + st[1] : 'seen live') + ': ' + st[4] +
          (st[3] >= st[2] ? ' (events #' + st[2] + '–#' + st[3] + ')' : ' (wrote no event)');
        chip.setAttribute('data-step', st[0]);
        place(chip, x, 0, COL - 4);
        grid.appendChild(chip);
        if (STEP[st[0]]) {
          var rule = el('div', 'tl-rule tl-' + kind[0]);
          place(rule, x + COL / 2 - 1, ROW);
          rule.style.height = (height - ROW) + 'px';
          grid.appendChild(rule);
        }
        return;
      }
      var ev = it.ev, d = describe(tl, ev), lv = LEVEL[d.info[1]] || LEVEL.Error;
      var chip2 = el('div', 'tl-ev ' + (d.ok ? lv[0] : 'fail bad'), (d.ok ? lv[1] : '✗!') + ' ' + ev[2]);
      chip2.title = d.text;
      chip2.setAttribute('data-seq', ev[0]);
      chip2.tabIndex = 0;
      place(chip2, x, (2 + ev[4]) * ROW, COL - 4);
      grid.appendChild(chip2);
      drawn += 1;
      if (ev[1] !== lastT) {
        var t = iso(tl.t0, ev[1]);
        // The date where it changes (and first), else the time of day.
        var day = t.slice(0, 10);
        var tick = el('div', 'tl-time', day === lastDay ? t.slice(11, 19) : t.slice(5, 16).replace('T', ' '));
        lastDay = day;
        tick.title = t;
        place(tick, x, ROW, COL - 4);
        grid.appendChild(tick);
        lastT = ev[1];
      }
    });
    var detail = el('p', 'tl-detail', 'Select an event or step to read it here.');
    grid.addEventListener('click', function (e) {
      if (e.target && e.target.title) { detail.textContent = e.target.title; }
    });
    grid.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && e.target && e.target.title) { detail.textContent = e.target.title; }
    });
    scroll.appendChild(grid);
    box.appendChild(scroll);
    box.appendChild(detail);
    box.setAttribute('data-rendered', '1');
    box.setAttribute('data-drawn', String(drawn));
    box.setAttribute('data-events', String(tl.events.length));
  }

  function open(det) {
    var box = det.querySelector('.timeline');
    if (!box || box.hasAttribute('data-rendered') || box.hasAttribute('data-live')) { return; }
    render(box, data.timelines[Number(box.getAttribute('data-index'))], 0);
  }

  var dets = document.querySelectorAll('details.scenario');
  var openAll = location.hash === '#open-all';
  Array.prototype.forEach.call(dets, function (det) {
    det.addEventListener('toggle', function () { if (det.open) { open(det); } });
    if (openAll) { det.open = true; }
    if (det.open) { open(det); }
  });
  // `#scenario-NAME` opens one scenario; `#only-NAME` shows it alone (a link to share).
  var only = location.hash.indexOf('#only-') === 0;
  if (location.hash.indexOf('#scenario-') === 0 || only) {
    var target = document.getElementById('scenario-' + location.hash.slice(only ? 6 : 10));
    if (target && target.tagName === 'DETAILS') {
      target.open = true;
      open(target);
      if (only) {
        Array.prototype.forEach.call(document.querySelectorAll('main > section'), function (sec) {
          sec.hidden = sec.id !== 'scenarios' && sec.id !== 'summary';
        });
        Array.prototype.forEach.call(dets, function (det) { det.hidden = det !== target; });
      } else {
        target.scrollIntoView();
      }
    }
  }

  var filter = document.getElementById('filter'), status = document.getElementById('status-filter');
  var shown = document.getElementById('shown');
  function applyFilter() {
    var q = filter.value.toLowerCase(), s = status.value, n = 0;
    Array.prototype.forEach.call(dets, function (det) {
      var hit = det.getAttribute('data-name').toLowerCase().indexOf(q) >= 0 &&
        (!s || det.getAttribute('data-status') === s);
      det.hidden = !hit;
      n += hit ? 1 : 0;
    });
    shown.textContent = n + ' of ' + dets.length + ' shown';
  }
  if (filter && status && shown && !only) {
    filter.addEventListener('input', applyFilter);
    status.addEventListener('change', applyFilter);
    applyFilter();
  }

  window.Harness = { render: render, data: data, items: items };
  document.body.setAttribute('data-ready', '1');
}());
