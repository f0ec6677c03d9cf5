import { revalidateTag } from 'next/cache'

import { write } from '../../../db.mjs'

/** POST { "value": "v2" }: writes the value and expires the tag `bench` now. */
export async function POST(request) {
  const { value } = await request.json()
  await write(value)
  revalidateTag('bench', { expire: 0 })
  return Response.json({ ok: true })
}
