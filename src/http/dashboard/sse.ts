/** One server-sent event frame (WHATWG HTML §9.2.5): `event:` + one `data:` line of JSON. */
export function frame(event: string, data: unknown, id?: number): Uint8Array {
  // JSON.stringify never emits a raw newline, so the data stays on one `data:` line.
  const head = id === undefined ? '' : `id: ${id}\n`
  return encoder.encode(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}

/** What a stream starts with: how long the browser waits before reconnecting, in ms. */
export const retryFrame = (ms: number): Uint8Array => encoder.encode(`retry: ${ms}\n\n`)

const encoder = new TextEncoder()

/** At most this many tags of one invalidation travel in an event (a batch may hold 100,000). */
export const MAX_EVENT_TAGS = 20

/** Tags as an event carries them: the first {@link MAX_EVENT_TAGS}, each cut at 200 characters. */
export function shownTags(tags: readonly string[]): { tags: string[]; tag_count: number } {
  return {
    tags: tags
      .slice(0, MAX_EVENT_TAGS)
      .map((tag) => (tag.length > 200 ? `${tag.slice(0, 200)}…` : tag)),
    tag_count: tags.length,
  }
}
