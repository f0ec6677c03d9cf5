import { invalidOption } from '../errors.js'

/**
 * Request cookies that never personalise a response: the common analytics and consent cookies,
 * set and read by scripts in the browser, never by the server. Not the default — pass it (or
 * your own list) as `ignoredCookies` once you have checked that your handlers never read them.
 *
 * | cookie                                  | set by                                            |
 * | --------------------------------------- | ------------------------------------------------- |
 * | `_ga`, `_ga_*`, `_gid`, `_gat`, `_gat_*` | Google Analytics                                  |
 * | `_gcl_au`, `_gcl_aw`, `_gcl_dc`         | Google Ads conversion linker                      |
 * | `_fbp`, `_fbc`                          | Meta pixel                                        |
 * | `_hjSessionUser_*`, `_hjSession_*`      | Hotjar                                            |
 * | `_clck`, `_clsk`                        | Microsoft Clarity                                 |
 * | `OptanonConsent`, `OptanonAlertBoxClosed` | OneTrust consent                                |
 * | `CookieConsent`                         | Cookiebot consent                                 |
 * | `cookieyes-consent`                     | CookieYes consent                                 |
 * | `euconsent-v2`                          | IAB TCF v2 consent string                         |
 */
export const ANALYTICS_COOKIES: readonly string[] = Object.freeze([
  '_ga',
  '_ga_*',
  '_gid',
  '_gat',
  '_gat_*',
  '_gcl_au',
  '_gcl_aw',
  '_gcl_dc',
  '_fbp',
  '_fbc',
  '_hjSessionUser_*',
  '_hjSession_*',
  '_clck',
  '_clsk',
  'OptanonConsent',
  'OptanonAlertBoxClosed',
  'CookieConsent',
  'cookieyes-consent',
  'euconsent-v2',
])

/** A cookie-name (RFC 6265 §4.1.1: an RFC 2616 token), optionally ending in `*` (a prefix). */
const PATTERN = /^[!#$%&'+\-.^_`|~0-9A-Za-z]+\*?$/

/** Whether a cookie name is one that never personalises a response. */
export type CookieFilter = (name: string) => boolean

/** The `ignoredCookies` option, checked once: exact names, or prefixes written `name*`. */
export function cookieFilter(patterns: unknown): CookieFilter {
  if (patterns === undefined) return () => false
  if (
    !Array.isArray(patterns) ||
    !patterns.every((p) => typeof p === 'string' && PATTERN.test(p))
  ) {
    throw invalidOption(
      'ignoredCookies',
      "must be a list of cookie names, or prefixes like '_ga_*'",
    )
  }
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const p of patterns as string[]) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1))
    else exact.add(p)
  }
  // Cookie names are case-sensitive (RFC 6265 §4.1.1, §5.4): `_GA` is not `_ga`.
  return (name) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix))
}

/**
 * Whether a request's `Cookie` header (RFC 6265 §5.4: `name=value` pairs separated by `;`)
 * holds any cookie that `ignored` does not name — one that may say who the caller is.
 */
export function personalCookies(header: string | undefined, ignored: CookieFilter): boolean {
  if (header === undefined) return false
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim()
    // A pair without a name still carries a value the app may read: it counts.
    if (name === '' && (eq === -1 ? pair : pair.slice(eq + 1)).trim() === '') continue
    if (!ignored(name)) return true
  }
  return false
}
