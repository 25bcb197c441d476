// Wildkat stats page: polls /stats.json and renders every figure. Served by
// the tracker itself; builds DOM with textContent only (no HTML from data).
'use strict';

(function () {
  const POLL_MS = 5000;
  const SVG = 'http://www.w3.org/2000/svg';
  const PROTOCOLS = [['udp', 'UDP'], ['https', 'HTTPS'], ['http', 'HTTP']];
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
      const code = el('code', '', url);
      code.id = 'url-' + key;
      item.append(code);
      const button = el('button', 'copy', 'Copy');
      button.type = 'button';
      button.setAttribute('aria-label', 'Copy the ' + name + ' announce URL');
      button.addEventListener('click', () => copy(url, button));
      item.append(button);
      list.append(item);
    }
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

  function barChart(container, values, labels, highlight) {
    const w = 720;
    const h = 120;
    const gap = 4;
    const bw = (w - gap * (values.length - 1)) / values.length;
    const max = Math.max(1, ...values);
    const svg = svgEl('svg', { viewBox: '0 0 ' + w + ' ' + (h + 18), role: 'img', 'aria-label': container.getAttribute('aria-label') || 'bar chart' });
    values.forEach((v, i) => {
      const bh = v > 0 ? Math.max(2, (h * v) / max) : 1;
      const rect = svgEl('rect', { x: i * (bw + gap), y: h - bh, width: bw, height: bh, rx: 2, class: 'barrect' + (i === highlight ? ' now' : '') });
      const title = svgEl('title');
      title.textContent = labels[i] + ': ' + count(v);
      rect.append(title);
      svg.append(rect);
      if (values.length <= 24 || i % 5 === 0 || i === values.length - 1) {
        const t = svgEl('text', { x: i * (bw + gap) + bw / 2, y: h + 13, 'text-anchor': 'middle' });
        t.textContent = values.length <= 24 ? labels[i] : labels[i].slice(5);
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
      const cell = el('td', 'empty', 'No swarms yet');
      cell.colSpan = 5;
      row.append(cell);
      body.append(row);
      return;
    }
    for (const s of swarms) {
      const row = el('tr');
      row.append(el('td', '', s.info_hash), el('td', '', count(s.peers)), el('td', '', count(s.seeders)), el('td', '', count(s.leechers)), el('td', '', count(s.downloaded)));
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
      PROTOCOLS.map(([key, name]) => [key, name, p.protocols[key].announces, key]),
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
      barChart(chart, latest.daily.map((d) => d.announces), latest.daily.map((d) => d.date), latest.daily.length - 1);
    } else {
      const hours = latest.hourly[period];
      const date = period === 'today' ? latest.hourly.today_date : previousDate(latest.hourly.today_date);
      $('activity-title').textContent = 'Hourly activity — ' + date + ' (UTC)';
      chart.setAttribute('aria-label', 'announces per hour');
      const nowHour = period === 'today' ? new Date(latest.tracker.generated_at).getUTCHours() : -1;
      barChart(chart, hours, hours.map((_, i) => String(i).padStart(2, '0')), nowHour);
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
    renderPeriod();
    const legend = $('rate-legend');
    if (!legend.hasChildNodes()) for (const [key, name] of PROTOCOLS) legend.append(el('span', key, name));
    for (const [kind, id] of [['announces_per_second', 'announce-rate-chart'], ['scrapes_per_second', 'scrape-rate-chart']]) {
      lineChart($(id), PROTOCOLS.map(([key, name]) => ({ key: key, name: name, values: stats.last_hour[kind][key] })));
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
  poll();
})();
