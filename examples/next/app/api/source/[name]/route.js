import { read } from '../../../../db.mjs'

// The upstream the /price page fetches: read from the database on every call.
export const dynamic = 'force-dynamic'

export async function GET(_request, { params }) {
  const { name } = await params
  return Response.json({ value: await read(name), readAt: new Date().toISOString() })
}
