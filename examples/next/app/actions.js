'use server'
import { revalidatePath, updateTag } from 'next/cache'

import { write } from '../db.mjs'

/**
 * Writes a value to the database and revalidates what shows it: `updateTag` for tags,
 * `revalidatePath` for paths. With CACHEGRAPH_ACK=1 it returns once every instance applied them.
 */
export async function save(name, value, { tags = [], paths = [] } = {}) {
  await write(name, value)
  for (const tag of tags) updateTag(tag)
  for (const path of paths) revalidatePath(path)
  return { saved: name, value }
}

/** The form on the home page: the posts' title. */
export async function rename(formData) {
  await save('posts', String(formData.get('title')), { tags: ['posts'] })
}
