import { read } from '../../../db.mjs'

export const dynamic = 'force-dynamic'

export async function GET() {
  return Response.json({ value: await read() })
}
