import type { InvalidationClient } from '../../src/client/index.js'
import type { ClientEventName, ClientEvents } from '../../src/client/events.js'

/** Collects every event a client emits, by name, in order. */
export function recordEvents(c: InvalidationClient) {
  const events: { [E in ClientEventName]: ClientEvents[E][] } = {
    sent: [],
    retry: [],
    dropped: [],
    error: [],
  }
  for (const name of Object.keys(events) as ClientEventName[]) {
    c.on(name, (payload) => (events[name] as unknown[]).push(payload))
  }
  return events
}
