// Number formats and Markdown tables of the benchmark report (report.js).

export const SIZES = ['1', '10000', '100000']

export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')

export const fixed = (digits) => (n) => (Number.isFinite(n) ? n.toFixed(digits) : '—')

export const x2 = fixed(2)

/** A ratio: two decimals, or a whole number with separators once it is large. */
export const ratio = (n) => (Number.isFinite(n) && n >= 100 ? int(n) : x2(n))

export const ms3 = fixed(3)

export const us = (n) => (Number.isFinite(n) ? (n >= 100 ? int(n) : n.toFixed(2)) : '—')

export const spread = (r) => (r ? `${x2(r.median)} (${x2(r.min)}–${x2(r.max)})` : '—')

export const size = (s) => Number(s).toLocaleString('en-US')

/** Display width, as prettier measures it for table cells (these texts have no wide characters). */
export const width = (text) => [...text].length

/**
 * A markdown table laid out as prettier lays it out, so formatting README.md changes nothing.
 * `align` holds 'l' or 'r' per column.
 */
export function table(headers, rows, align) {
  const widths = headers.map((h, c) =>
    Math.max(3, width(h), ...rows.map((row) => width(String(row[c])))),
  )
  const pad = (text, c) =>
    align[c] === 'r' ? String(text).padStart(widths[c]) : String(text).padEnd(widths[c])
  const line = (cells) => `| ${cells.map((cell, c) => pad(cell, c)).join(' | ')} |`
  const rule = widths.map((w, c) => (align[c] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)))
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n')
}

export const NOT_RUN = (file) => `not run (no \`results/${file}.json\`)`
