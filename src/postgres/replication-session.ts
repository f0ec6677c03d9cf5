import type { Session, SessionContext } from './session.js'

export function openReplicationSession(_context: SessionContext): Promise<Session> {
  return Promise.reject(new Error('not yet'))
}
