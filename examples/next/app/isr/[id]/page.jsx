import { read } from '../../../db.mjs'

// ISR: rendered on first request, kept by cachegraph (`cacheHandler`) for an hour, shared by
// every instance; `revalidatePath('/isr/1')` in any instance refreshes it everywhere.
export const revalidate = 3600
export const dynamicParams = true
export function generateStaticParams() {
  return [] // nothing at build time: the build needs no database
}

export default async function Page({ params }) {
  const { id } = await params
  const value = await read(`isr:${id}`)
  return (
    <main>
      <h1>ISR page {id}</h1>
      <p>
        value: <output data-value={value}>{value}</output> (rendered at {new Date().toISOString()})
      </p>
    </main>
  )
}
