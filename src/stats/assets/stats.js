// Wildkat stats page: polls /stats.json and renders every figure. Served by
// the tracker itself; builds DOM with textContent only (no HTML from data).
'use strict';

(function () {
  const POLL_MS = 5000;
  const SVG = 'http://www.w3.org/2000/svg';
  const PROTOCOLS = [['udp', 'UDP'], ['https', 'HTTPS'], ['http', 'HTTP'], ['wss', 'WSS'], ['ws', 'WS']];
  // Browser (WebTorrent) transports: in the charts only once they have figures (their URLs are always listed).
  const BROWSER = new Set(['wss', 'ws']);
  let period = 'today';
  let latest = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function count(n) {
    return Number(n).toLocaleString('en-US');
  }

  function bytes(n) {
    const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
    let v = Number(n);
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
  }

  // Axis labels: 950, 1.2k, 12.3k, 123k, 4.5M … (one decimal below 100 of a unit).
  function short(n) {
    const units = ['', 'k', 'M', 'G', 'T'];
    let v = Number(n);
    let i = 0;
    while (i < units.length - 1 && Math.round(v * 10) / 10 >= 1000) {
      v /= 1000;
      i++;
    }
    const text = v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
    return text + units[i];
  }

  function every(seconds) {
    const s = Number(seconds);
    const unit = (n, name) => (n === 1 ? 'every ' + name : 'every ' + n + ' ' + name + 's');
    if (s % 3600 === 0) return unit(s / 3600, 'hour');
    if (s % 60 === 0) return unit(s / 60, 'minute');
    return unit(s, 'second');
  }

  function percent(part, whole) {
    return whole > 0 ? ((100 * part) / whole).toFixed(1) + '%' : '0.0%';
  }

  function duration(seconds) {
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    if (d > 0) return d + 'd ' + h + 'h ' + m + 'm';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + (seconds % 60) + 's';
    return seconds + 's';
  }

  function copy(text, button) {
    const done = () => {
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = 'Copy'), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    const area = el('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand('copy');
      done();
    } finally {
      area.remove();
    }
  }

  function renderUrls(urls) {
    const list = $('announce-urls');
    const wanted = PROTOCOLS.filter(([key]) => urls[key]).map(([key, name]) => [key, name, urls[key]]);
    const signature = JSON.stringify(wanted);
    if (list.dataset.signature === signature) return;
    list.dataset.signature = signature;
    list.replaceChildren();
    for (const [key, name, url] of wanted) {
      const item = el('li');
      item.append(el('span', 'badge ' + key, name));
      const code = el('code');
      code.id = 'url-' + key;
      // Soft breaks after "://", before ":port" and before "/announce".
      urlParts(url).forEach((part, i) => {
        if (i > 0) code.append(el('wbr'));
        code.append(document.createTextNode(part));
      });
      item.append(code);
      const button = el('button', 'copy', 'Copy');
      button.type = 'button';
      button.setAttribute('aria-label', 'Copy the ' + name + ' announce URL');
      button.addEventListener('click', () => copy(url, button));
      item.append(button);
      list.append(item);
    }
  }

  function urlParts(url) {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*?)(:[0-9]+)?(\/.*)?$/i.exec(url);
    return m ? m.slice(1).filter(Boolean) : [url];
  }

  // The protocols this tracker serves (an announce URL), and any that has figures anyway.
  function protocolsOn(stats) {
    const all = stats.periods.all_time.protocols;
    return PROTOCOLS.filter(([key]) => {
      const counted = all[key] ? all[key].announces + all[key].scrapes : 0;
      const served = stats.announce_urls[key] !== null && stats.announce_urls[key] !== undefined;
      return (served && !BROWSER.has(key)) || counted > 0;
    });
  }

  function renderStorage(storage) {
    const note = $('storage-note');
    if (!storage) return;
    const signature = JSON.stringify(storage);
    if (note.dataset.signature === signature) return;
    note.dataset.signature = signature;
    const parts = [];
    const strong = (text) => el('strong', '', text);
    if (storage.store === 'redis') {
      parts.push(strong('Swarms'), ' (peer ids, IP addresses and ports) are ', strong('kept in Redis'),
        ', shared by every tracker process that uses it; whether Redis writes them to disk depends on its own settings. ',
        'Statistics are held in memory and reset when the tracker restarts.');
    } else if (storage.state_file) {
      const when = storage.state_interval_seconds ? every(storage.state_interval_seconds) + ' and on shutdown' : 'on shutdown';
      parts.push(strong('Swarms'), ' (peer ids, IP addresses and ports) are held in memory and ', strong('also saved to disk'),
        ' ' + when + ', so they survive a restart. Statistics are held in memory only and reset when the tracker restarts.');
    } else {
      parts.push(strong('Swarms and statistics are held in memory only.'),
        ' Nothing about peers is written to disk; all figures reset when the tracker restarts.');
    }
    note.replaceChildren(...parts);
  }

  function renderBars(container, rows, total) {
    container.replaceChildren();
    for (const [key, name, value, color] of rows) {
      const row = el('div', 'bar');
      row.id = container.id + '-' + key;
      row.append(el('span', 'name', name));
      const track = el('div', 'track');
      const fill = el('div', 'fill');
      fill.style.width = total > 0 ? (100 * value) / total + '%' : '0';
      fill.style.background = 'var(--' + color + ')';
      track.append(fill);
      row.append(track);
      const v = el('span', 'value', count(value) + ' ');
      v.append(el('small', '', '(' + percent(value, total) + ')'));
      row.append(v);
      container.append(row);
    }
  }

  // Bars with a value axis (0, half, max). Drawn at the container's pixel width
  // so the labels keep their size on a phone; redrawn when the window resizes.
  function barChart(container, values, labels, highlight, labelsFromEnd) {
    const w = Math.max(240, Math.round(container.clientWidth) || 720);
    const top = 8;
    const h = 128;
    const charW = 6.2;
    const max = Math.max(1, ...values);
    const ticks = max >= 2 ? [0, max / 2, max] : [0, max];
    const tickText = ticks.map(short);
    const gutter = Math.ceil(10 + charW * Math.max(...tickText.map((t) => t.length)));
    const plot = w - gutter;
    const slot = plot / values.length;
    const gap = Math.min(4, slot / 4);
    const bw = slot - gap;
    const y = (v) => h - ((h - top) * v) / max;
    const svg = svgEl('svg', { viewBox: '0 0 ' + w + ' ' + (h + 20), role: 'img', 'aria-label': container.getAttribute('aria-label') || 'bar chart' });
    ticks.forEach((v, i) => {
      svg.append(svgEl('line', { x1: gutter, y1: y(v), x2: w, y2: y(v), class: i === 0 ? 'axis' : 'grid' }));
      const t = svgEl('text', { x: gutter - 6, y: y(v) + 3.5, 'text-anchor': 'end', class: 'ytick' });
      t.textContent = tickText[i];
      svg.append(t);
    });
    // Dates (YYYY-MM-DD) are ticked as MM-DD; their bars' titles keep the year.
    const tickLabels = labels.map((l) => (l.length > 5 ? l.slice(5) : l));
    const labelW = charW * Math.max(...tickLabels.map((l) => l.length)) + 8;
    const step = Math.max(1, Math.ceil(labelW / slot));
    const last = values.length - 1;
    values.forEach((v, i) => {
      const bh = v > 0 ? Math.max(2, h - y(v)) : 1;
      const x = gutter + i * slot + gap / 2;
      const rect = svgEl('rect', { x: x, y: h - bh, width: bw, height: bh, rx: 2, class: 'barrect' + (i === highlight ? ' now' : '') });
      const title = svgEl('title');
      title.textContent = labels[i] + ': ' + count(v);
      rect.append(title);
      svg.append(rect);
      if ((labelsFromEnd ? last - i : i) % step === 0) {
        const t = svgEl('text', { x: x + bw / 2, y: h + 15, 'text-anchor': 'middle', class: 'xtick' });
        t.textContent = tickLabels[i];
        svg.append(t);
      }
    });
    container.replaceChildren(svg);
  }

  function lineChart(container, series) {
    const w = 360;
    const h = 120;
    const pad = 30;
    const all = series.flatMap((s) => s.values);
    const max = Math.max(0.1, ...all);
    const n = series[0] ? series[0].values.length : 60;
    const x = (i) => pad + ((w - pad - 4) * i) / Math.max(1, n - 1);
    const y = (v) => 6 + (h - 12) * (1 - v / max);
    const svg = svgEl('svg', { viewBox: '0 0 ' + w + ' ' + (h + 16), role: 'img' });
    svg.append(svgEl('line', { x1: pad, y1: h - 6, x2: w - 4, y2: h - 6, class: 'axis' }));
    svg.append(svgEl('line', { x1: pad, y1: 6, x2: pad, y2: h - 6, class: 'axis' }));
    const top = svgEl('text', { x: pad - 4, y: 12, 'text-anchor': 'end' });
    top.textContent = max >= 10 ? max.toFixed(0) : max.toFixed(1);
    const zero = svgEl('text', { x: pad - 4, y: h - 4, 'text-anchor': 'end' });
    zero.textContent = '0';
    const left = svgEl('text', { x: pad, y: h + 12, 'text-anchor': 'start' });
    left.textContent = '−60 min';
    const right = svgEl('text', { x: w - 4, y: h + 12, 'text-anchor': 'end' });
    right.textContent = 'now';
    svg.append(top, zero, left, right);
    for (const s of series) {
      const points = s.values.map((v, i) => x(i).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
      const line = svgEl('polyline', { points: points, class: 'line ' + s.key });
      const title = svgEl('title');
      title.textContent = s.name + ' now: ' + s.values[s.values.length - 1] + '/s';
      line.append(title);
      svg.append(line);
    }
    container.replaceChildren(svg);
  }

  function renderSwarms(swarms) {
    const body = $('top-swarms');
    body.replaceChildren();
    if (swarms.length === 0) {
      const row = el('tr');
      row.setAttribute('role', 'row');
      const cell = el('td', 'empty', 'No swarms yet');
      cell.colSpan = 5;
      cell.setAttribute('role', 'cell');
      row.append(cell);
      body.append(row);
      return;
    }
    for (const s of swarms) {
      // Roles: the narrow-screen layout restyles the rows; the table stays a table to assistive tech.
      const row = el('tr');
      row.setAttribute('role', 'row');
      const hash = el('td', 'hash', s.info_hash);
      hash.title = s.info_hash;
      row.append(hash, el('td', '', count(s.peers)), el('td', '', count(s.seeders)), el('td', '', count(s.leechers)), el('td', '', count(s.downloaded)));
      for (const cell of row.children) cell.setAttribute('role', 'cell');
      body.append(row);
    }
  }

  function renderPeriod() {
    if (!latest) return;
    const p = latest.periods[period];
    $('period-announces').textContent = count(p.announces);
    $('period-scrapes').textContent = count(p.scrapes) + ' scrapes';
    $('period-unique-ips').textContent = count(p.unique_ips);
    $('period-bytes').textContent = bytes(p.bytes_sent);
    $('period-responses').textContent = count(p.responses) + ' responses';
    $('period-gzip').textContent = bytes(p.gzip_bytes_saved);
    $('period-gzip-share').textContent =
      '(' + percent(p.gzip_bytes_saved, p.bytes_sent + p.gzip_bytes_saved) + ' of bytes / ' + percent(p.gzip_responses, p.responses) + ' of responses)';
    renderBars(
      $('protocol-bars'),
      protocolsOn(latest).map(([key, name]) => [key, name, p.protocols[key].announces, key]),
      p.announces,
    );
    renderBars(
      $('family-bars'),
      [
        ['ipv4', 'IPv4', p.families.ipv4.announces, 'v4'],
        ['ipv6', 'IPv6', p.families.ipv6.announces, 'v6'],
      ],
      p.announces,
    );
    const chart = $('activity-chart');
    if (period === 'all_time') {
      $('activity-title').textContent = 'Daily activity — last 30 days (UTC)';
      chart.setAttribute('aria-label', 'announces per day');
      barChart(chart, latest.daily.map((d) => d.announces), latest.daily.map((d) => d.date), latest.daily.length - 1, true);
    } else {
      const hours = latest.hourly[period];
      const date = period === 'today' ? latest.hourly.today_date : previousDate(latest.hourly.today_date);
      $('activity-title').textContent = 'Hourly activity — ' + date + ' (UTC)';
      chart.setAttribute('aria-label', 'announces per hour');
      const nowHour = period === 'today' ? new Date(latest.tracker.generated_at).getUTCHours() : -1;
      barChart(chart, hours, hours.map((_, i) => String(i).padStart(2, '0')), nowHour, false);
    }
  }

  function previousDate(iso) {
    const d = new Date(iso + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() - 1);
    return d.toISOString().slice(0, 10);
  }

  function render(stats) {
    latest = stats;
    $('uptime').textContent = duration(stats.tracker.uptime_seconds);
    $('stat-torrents').textContent = count(stats.live.torrents);
    $('stat-peers').textContent = count(stats.live.peers);
    $('stat-peers-split').textContent = count(stats.live.seeders) + ' seeding · ' + count(stats.live.leechers) + ' leeching';
    $('stat-announces').textContent = count(stats.periods.all_time.announces);
    $('version').textContent = 'v' + stats.tracker.version;
    renderUrls(stats.announce_urls);
    renderStorage(stats.storage);
    renderPeriod();
    const protocols = protocolsOn(stats);
    const legend = $('rate-legend');
    const signature = protocols.map(([key]) => key).join(',');
    if (legend.dataset.signature !== signature) {
      legend.dataset.signature = signature;
      legend.replaceChildren(...protocols.map(([key, name]) => el('span', key, name)));
    }
    for (const [kind, id] of [['announces_per_second', 'announce-rate-chart'], ['scrapes_per_second', 'scrape-rate-chart']]) {
      lineChart($(id), protocols.map(([key, name]) => ({ key: key, name: name, values: stats.last_hour[kind][key] })));
    }
    renderSwarms(stats.top_swarms);
    $('updated').textContent = 'updated ' + new Date(stats.tracker.generated_at).toISOString().slice(11, 19) + ' UTC';
    $('live-dot').className = 'dot ok';
    document.body.dataset.loaded = 'true';
  }

  function poll() {
    fetch('/stats.json', { cache: 'no-store' })
      .then((r) => {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(render)
      .catch(() => {
        $('live-dot').className = 'dot stale';
        $('updated').textContent = 'cannot reach the tracker; retrying';
      })
      .finally(() => setTimeout(poll, POLL_MS));
  }

  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => {
      period = tab.dataset.period;
      for (const t of document.querySelectorAll('[role="tab"]')) t.setAttribute('aria-selected', String(t === tab));
      renderPeriod();
    });
  }
  let resizing = false;
  window.addEventListener('resize', () => {
    if (resizing) return;
    resizing = true;
    requestAnimationFrame(() => {
      resizing = false;
      renderPeriod();
    });
  });
  poll();
})();
