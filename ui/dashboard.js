// The cachegraph dashboard: plain browser JavaScript over the admin API, no build step.
/* global document, CSS, EventSource, uPlot, addEventListener */
// Everything from the server is written with textContent, never as HTML.
;(() => {
  'use strict'
  const prefix = document.querySelector('meta[name="cachegraph-prefix"]').content
  const $ = (id) => document.getElementById(id)
  const WINDOW_S = 300 // the chart's last five minutes
  const FEED_MAX = 200 // feed items kept on the page

  /** A fetch of the admin API: JSON in and out, errors as messages. */
  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: {} }
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    const response = await fetch(prefix + path, init)
    const data = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`)
    return data
  }

  function el(tag, text, className) {
    const node = document.createElement(tag)
    if (text !== undefined) node.textContent = String(text)
    if (className) node.className = className
    return node
  }

  const number = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–')
  function duration(ms) {
    if (ms < 1000) return `${Math.round(ms)} ms`
    const s = ms / 1000
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
    return `${(s / 3600).toFixed(1)} h`
  }
  function bytes(n) {
    if (typeof n !== 'number') return '–'
    if (n < 1024) return `${n} B`
    if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`
    return `${(n / 1048576).toFixed(1)} MB`
  }
  const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB')

  // ---- live stats and the chart ----------------------------------------------------------
  const series = [[], [], [], [], [], []] // time, hit ratio %, L1 hits/s, L2 hits/s, misses/s, errors/s
  let previous
  let chart

  function makeChart() {
    const width = Math.max(320, $('chart').clientWidth)
    chart = new uPlot(
      {
        width,
        height: 220,
        scales: { pct: { range: [0, 100] } },
        series: [
          {},
          { label: 'hit ratio %', scale: 'pct', stroke: '#16a34a', width: 2, spanGaps: true },
          { label: 'L1 hits/s', stroke: '#2563eb' },
          { label: 'L2 hits/s', stroke: '#7c3aed' },
          { label: 'misses/s', stroke: '#ea580c' },
          { label: 'errors/s', stroke: '#dc2626' },
        ],
        axes: [
          {},
          { scale: 'pct', label: '%' },
          { side: 1, label: 'per s', grid: { show: false } },
        ],
      },
      series,
      $('chart'),
    )
    addEventListener('resize', () =>
      chart.setSize({ width: Math.max(320, $('chart').clientWidth), height: 220 }),
    )
  }

  function showStats(stats) {
    $('s-hit-rate').textContent = `${(stats.hit_rate * 100).toFixed(1)} %`
    $('s-l1-hits').textContent = number(stats.l1.hits)
    $('s-l2-hits').textContent = number(stats.l2.hits)
    $('s-misses').textContent = number(stats.misses)
    $('s-errors').textContent = number(stats.errors + stats.l2.errors)
    $('s-entries').textContent = number(stats.l1.entries)
    $('s-circuit').textContent = stats.l2.circuit
    $('s-circuit').className = stats.l2.circuit === 'closed' ? 'ok' : 'bad'
    showBus(stats.bus == null ? null : stats.bus.trusted, stats.bus && stats.bus.seq)

    const t = stats.at / 1000
    if (previous !== undefined && t > previous.t) {
      const dt = t - previous.t
      const rate = (now, before) => Math.max(0, now - before) / dt
      const hits = stats.hits - previous.hits
      const misses = stats.misses - previous.misses
      series[0].push(t)
      series[1].push(hits + misses > 0 ? (100 * hits) / (hits + misses) : null)
      series[2].push(rate(stats.l1.hits, previous.l1))
      series[3].push(rate(stats.l2.hits, previous.l2))
      series[4].push(rate(stats.misses, previous.misses))
      series[5].push(rate(stats.errors + stats.l2.errors, previous.errors))
      while (series[0].length > 0 && series[0][0] < t - WINDOW_S) series.forEach((s) => s.shift())
      if (chart) chart.setData(series)
      $('chart').dataset.points = String(series[0].length)
    }
    previous = {
      t,
      hits: stats.hits,
      misses: stats.misses,
      l1: stats.l1.hits,
      l2: stats.l2.hits,
      errors: stats.errors + stats.l2.errors,
    }
  }

  function showBus(trusted, seq) {
    const node = $('s-bus')
    if (trusted === null || trusted === undefined) {
      node.textContent = 'none'
      node.className = 'muted'
    } else {
      node.textContent = trusted ? 'trusted' : 'not trusted'
      node.className = trusted ? 'ok' : 'bad'
      node.title = seq === undefined ? '' : `every invalidation up to seq ${seq} applied here`
    }
  }

  // ---- the invalidation feed ---------------------------------------------------------------
  function feedItem(kind, data) {
    const item = el('li', undefined, `feed-item ${kind}`)
    if (data.seq !== undefined) item.dataset.seq = String(data.seq)
    const head = el('div', undefined, 'feed-head')
    head.append(el('time', clock(data.at || Date.now()), 'muted'))
    if (data.seq !== undefined) head.append(el('span', `seq ${data.seq}`, 'seq'))
    if (kind === 'invalidation') {
      const local = data.source === 'local'
      head.append(
        el(
          'span',
          local ? `this process (pid ${data.pid})` : `bus · ${sender(data.origin)}`,
          local ? 'badge local' : 'badge bus',
        ),
      )
      // Which process sent it: its member id on the bus.
      if (!local && data.origin) head.append(el('span', data.origin, 'origin muted'))
      if (data.stale) head.append(el('span', 'stale', 'badge'))
    } else if (kind === 'delete') {
      head.append(el('span', 'deleted', 'badge'))
    } else {
      head.append(el('span', kind, 'badge warn'))
    }
    item.append(head)
    const names = data.tags || data.keys
    if (names) {
      const list = el('div', undefined, 'tags')
      for (const name of names) list.append(tagLink(name))
      const total = data.tag_count ?? data.key_count
      if (total > names.length) list.append(el('span', `+${total - names.length} more`, 'muted'))
      item.append(list)
    }
    if (data.text) item.append(el('div', data.text, 'muted'))
    const feed = $('feed')
    feed.prepend(item)
    while (feed.children.length > FEED_MAX) feed.lastElementChild.remove()
    return item
  }

  /** The sender of a bus invalidation, shortly: its pid when its member id names one. */
  function sender(origin) {
    const pid = /^cachegraph-(?:bus-)?(\d+)-/.exec(origin || '')
    return pid ? `from pid ${pid[1]}` : 'another process'
  }

  function showAck(data) {
    const item = document.querySelector(
      `#feed li.invalidation[data-seq="${CSS.escape(String(data.seq))}"]`,
    )
    const text =
      data.members === 0
        ? 'no other process to wait for'
        : `applied by ${data.acked} of ${data.members} other processes in ${duration(data.waited_ms)}` +
          (data.late.length > 0 ? ` · late: ${data.late.join(', ')}` : '')
    const line = el('div', text, data.late.length > 0 ? 'ack late' : 'ack')
    if (item) item.append(line)
    else feedItem('ack', { seq: data.seq, text })
  }

  function tagLink(tag) {
    const link = el('button', tag, 'tag')
    link.type = 'button'
    link.title = 'show the keys that depend on this tag'
    link.addEventListener('click', () => showDependents(tag))
    return link
  }

  function connect() {
    const source = new EventSource(`${prefix}/events`)
    const on = (name, handle) =>
      source.addEventListener(name, (event) => handle(JSON.parse(event.data)))
    on('hello', (data) => {
      $('process').textContent =
        `namespace ${data.namespace} · store ${data.store ?? 'none (L1 only)'} · pid ${data.pid}`
      $('connection').textContent = 'live'
      $('connection').className = 'pill ok'
    })
    on('stats', showStats)
    on('invalidation', (data) => feedItem('invalidation', data))
    on('delete', (data) => feedItem('delete', data))
    on('ack', showAck)
    on('bus', (data) => {
      showBus(data.trusted, data.seq)
      feedItem('bus', {
        text: data.trusted
          ? `bus trusted again at seq ${data.seq}`
          : `bus not trusted: ${data.reason}`,
      })
    })
    on('circuit', (data) => feedItem('circuit', { text: `shared tier circuit ${data.state}` }))
    on('reset', (data) =>
      feedItem('reset', {
        seq: data.seq,
        text: `the store lost its state (epoch ${data.epoch}); L1 dropped`,
      }),
    )
    on('gap', (data) =>
      feedItem('gap', { text: `${data.dropped} events were dropped (this page read too slowly)` }),
    )
    source.addEventListener('error', () => {
      $('connection').textContent =
        source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…'
      $('connection').className = 'pill bad'
    })
  }

  $('invalidate-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const tag = $('tag-input').value.trim()
    if (tag === '') return
    const result = $('invalidate-result')
    result.textContent = 'invalidating…'
    try {
      const data = await api('POST', '/invalidate', { tags: [tag], ack: $('ack-input').checked })
      result.textContent = `invalidated ${data.tags.join(', ')} at seq ${data.seq}`
    } catch (error) {
      result.textContent = error.message
    }
  })

  // ---- keys --------------------------------------------------------------------------------
  let cursor = 0
  let pattern = ''

  async function loadKeys(fresh) {
    if (fresh) {
      cursor = 0
      $('keys').replaceChildren()
    }
    const note = $('keys-note')
    note.textContent = 'loading…'
    try {
      // A store's scan pages may hold few keys, even none, before it ends (Redis scans its
      // whole keyspace): read on until 50 keys came, the scan is done, or 3 s went by.
      let found = 0
      const started = Date.now()
      do {
        const query = new URLSearchParams({ cursor: String(cursor), count: '250' })
        if (pattern !== '') query.set('pattern', pattern)
        const page = await api('GET', `/keys?${query}`)
        cursor = page.cursor
        found += page.keys.length
        page.keys.forEach(addKeyRow)
      } while (found < 50 && cursor !== 0 && Date.now() - started < 3000)
      $('more-keys').hidden = cursor === 0
      const rows = $('keys').children.length
      note.textContent =
        rows === 0
          ? 'no keys'
          : `${rows} key${rows === 1 ? '' : 's'}${cursor === 0 ? '' : ', more to scan'}`
    } catch (error) {
      note.textContent = error.message
    }
  }

  /**
   * A row from the listing alone: `GET /keys` brings each key's tags, size and creation time, so
   * a key invalidated after the listing cannot turn a per-row fetch into a 404.
   */
  function addKeyRow({ key, namespace, ttl, tags, size, created_at: createdAt }) {
    const row = el('tr')
    row.dataset.key = key
    const tagCell = el('td', undefined, 'tags')
    for (const tag of tags) tagCell.append(tagLink(tag))
    if (tags.length === 0) tagCell.append(el('span', 'none', 'muted'))
    const age = createdAt === null ? '–' : duration(Date.now() - Date.parse(createdAt))
    const remove = el('button', 'Delete', 'danger')
    remove.type = 'button'
    remove.addEventListener('click', async () => {
      remove.disabled = true
      try {
        await api(
          'DELETE',
          `/keys/${encodeURIComponent(key)}?namespace=${encodeURIComponent(namespace)}`,
        )
        row.remove()
        const rows = $('keys').children.length
        $('keys-note').textContent = `${rows} key${rows === 1 ? '' : 's'}`
      } catch (error) {
        remove.disabled = false
        remove.title = error.message
      }
    })
    const actions = el('td')
    actions.append(remove)
    row.append(
      el('td', key, 'key'),
      el('td', namespace, 'muted'),
      tagCell,
      el('td', age),
      el('td', bytes(size)),
      el('td', `${ttl} s`),
      actions,
    )
    $('keys').append(row)
  }

  $('keys-form').addEventListener('submit', (event) => {
    event.preventDefault()
    pattern = $('pattern-input').value.trim()
    void loadKeys(true)
  })
  $('more-keys').addEventListener('click', () => void loadKeys(false))

  async function showDependents(tag) {
    $('tag-card').hidden = false
    $('tag-name').textContent = tag
    const list = $('dependents')
    list.replaceChildren(el('li', 'loading…', 'muted'))
    try {
      const data = await api('GET', `/tags/${encodeURIComponent(tag)}`)
      list.replaceChildren(...data.keys.map((key) => el('li', key, 'key')))
      if (data.keys.length === 0) list.append(el('li', 'none in this process', 'muted'))
    } catch (error) {
      list.replaceChildren(el('li', error.message, 'bad'))
    }
    $('tag-card').scrollIntoView({ behavior: 'smooth', block: 'nearest' })
  }

  // ---- the fleet -----------------------------------------------------------------------------
  async function loadMembers() {
    try {
      const data = await api('GET', '/members')
      const body = $('members')
      if (data.members === null) {
        body.replaceChildren(memberRow(`this process`, data.self.pid, 'now', true))
        $('members-note').textContent =
          data.self.bus === null
            ? 'No bus: this process is on its own.'
            : 'Members are not listed (no admin.members source).'
      } else {
        body.replaceChildren(
          ...data.members.map((m) => memberRow(m.id, m.pid, `${duration(m.age_ms)} ago`, m.self)),
        )
        $('members-note').textContent =
          `${data.members.length} process${data.members.length === 1 ? '' : 'es'} with a bus on this store`
      }
    } catch (error) {
      $('members-note').textContent = error.message
    }
  }

  function memberRow(id, pid, seen, self) {
    const row = el('tr', undefined, self ? 'self' : '')
    const name = el('td', id, 'key')
    if (self) name.append(el('span', 'this process', 'badge local'))
    row.append(name, el('td', pid ?? '–'), el('td', seen))
    return row
  }

  makeChart()
  connect()
  void loadKeys(true)
  void loadMembers()
  setInterval(loadMembers, 5000)
})()
