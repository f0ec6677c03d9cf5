import { revalidatePath, revalidateTag } from 'next/cache'

import { write } from '../../../db.mjs'

/**
 * POST { "name": "price", "value": "v2", "tags": ["price"], "paths": ["/isr/1"] }: writes the
 * value and revalidates from a route handler. Next applies a route handler's revalidations
 * just after the response; the server action in app/actions.js applies them before it answers.
 */
export async function POST(request) {
  const { name, value, tags = [], paths = [] } = await request.json()
  if (name !== undefined) await write(name, value)
  for (const tag of tags) revalidateTag(tag, { expire: 0 })
  for (const path of paths) revalidatePath(path)
  return Response.json({ revalidated: { tags, paths } })
}
