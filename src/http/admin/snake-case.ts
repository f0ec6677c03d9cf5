/**
 * `hitRate` → `hit_rate`, all the way down: the admin API and the dashboard's event stream speak
 * the seed's snake_case. A leaf module, so that the stats route and the event hub can share it
 * without importing each other.
 */
export function snakeCase(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeCase(inner),
    ]),
  )
}
