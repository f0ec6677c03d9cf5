import { rename } from './actions.js'

export default function Home() {
  return (
    <main>
      <h1>cachegraph + Next.js</h1>
      <ul>
        <li>
          <a href="/posts">/posts</a>: a <code>&apos;use cache&apos;</code> function tagged
          <code>posts</code>
        </li>
        <li>
          <a href="/price">/price</a>: a <code>fetch</code> tagged <code>price</code>
        </li>
        <li>
          <a href="/isr/1">/isr/1</a>: an ISR page (revalidate: 1 hour)
        </li>
      </ul>
      <form action={rename}>
        <input name="title" placeholder="new posts title" />
        <button type="submit">Save and updateTag(&apos;posts&apos;)</button>
      </form>
    </main>
  )
}
