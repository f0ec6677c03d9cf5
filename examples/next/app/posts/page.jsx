import { cacheLife, cacheTag } from 'next/cache'
import { connection } from 'next/server'

import { read } from '../../db.mjs'

/** Cached by cachegraph (`cacheHandlers.default`) under the tag `posts`, in every instance. */
async function getPosts() {
  'use cache'
  cacheTag('posts')
  cacheLife('hours')
  return { title: await read('posts'), renderedAt: new Date().toISOString() }
}

export default async function Posts() {
  await connection() // rendered per request; the data comes from the cache
  const posts = await getPosts()
  return (
    <main>
      <h1>Posts</h1>
      <p>
        title: <output data-value={posts.title}>{posts.title}</output> (read from the database at{' '}
        {posts.renderedAt})
      </p>
    </main>
  )
}
