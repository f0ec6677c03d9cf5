import { afterEach, describe, expect, it } from 'vitest'

import { urlFlag } from '../../src/cli/args.js'
import { UsageError } from '../../src/cli/exit-codes.js'
import { run, serve, type Served } from './spawn.js'

const running: Served[] = []
afterEach(() => {
  for (const served of running.splice(0)) {
    if (served.child.exitCode === null) served.child.kill('SIGKILL')
  }
})

describe('bad URLs: every command exits 2 (usage) naming the flag or variable', () => {
  it('checks the scheme and the syntax, and shows no more of a URL than its scheme', () => {
    const check = (value: string) => () =>
      urlFlag(value, '--url', ['http:', 'https:'], 'http://127.0.0.1:8080')
    expect(check('https://cache.internal:8080/')()?.host).toBe('cache.internal:8080')
    expect(check('ftp://x')).toThrow(UsageError)
    expect(check('ftp://x')).toThrow(
      '--url must be a http:// or https:// URL (e.g. http://127.0.0.1:8080), got "ftp://…"',
    )
    expect(check('127.0.0.1:8080')).toThrow(/got "127\.0\.0\.1:8080"$/)
    expect(check('redis://user:secret@host')).not.toThrow(/secret/)
    expect(urlFlag(undefined, '--url', ['http:'], '')).toBeUndefined()
  })

  it('invalidate, stats and serve answer the same way for --url, --redis, --postgres and their variables', async () => {
    const cases: [args: string[], env: Record<string, string>, named: string][] = [
      [['invalidate', '--tag', 'a', '--url', 'ftp://cache.internal'], {}, '--url'],
      [['invalidate', '--tag', 'a', '--url', 'not a url'], {}, '--url'],
      [['stats', '--url', 'redis://127.0.0.1:6379'], {}, '--url'],
      [['stats'], { CACHEGRAPH_URL: '127.0.0.1:8080' }, 'CACHEGRAPH_URL'],
      [['serve', '--insecure', '--port', '0', '--redis', 'http://127.0.0.1:6379'], {}, '--redis'],
      [['serve', '--insecure', '--port', '0'], { REDIS_URL: '127.0.0.1:6379' }, 'REDIS_URL'],
      [
        ['serve', '--insecure', '--port', '0', '--postgres', 'mysql://db/shop', '--table', 'a=b'],
        {},
        '--postgres',
      ],
    ]
    const results = await Promise.all(cases.map(([args, env]) => run(args, env)))
    results.forEach((result, i) => {
      const named = cases[i]![2]
      expect({ named, code: result.code }).toEqual({ named, code: 2 })
      expect(result.stderr).toContain(`cachegraph: ${named} must be a `)
      expect(result.stderr).toContain("Run 'cachegraph --help' for the flags.")
    })
  }, 60_000) // each command is a new node process: slow on a busy machine
})

describe('401: the CLI says whether it sent a key', () => {
  it('no key sent, a refused key from the flag, a refused key from the environment', async () => {
    const served = await serve(['--api-key', 'right'])
    running.push(served)
    const args = ['invalidate', '--tag', 'a', '--url', served.url]
    const [none, flag, env, ok] = await Promise.all([
      run(args),
      run([...args, '--api-key', 'wrong']),
      run(args, { CACHE_API_KEY: 'wrong' }),
      run(args, { CACHE_API_KEY: 'right' }),
    ])
    expect(none.code).toBe(1)
    expect(none.stderr).toBe(
      'cachegraph: 401: no key was sent — pass --api-key or set CACHE_API_KEY\n',
    )
    expect(flag.code).toBe(1)
    expect(flag.stderr).toMatch(/^cachegraph: 401: the key was refused \(from --api-key\)/)
    expect(env.code).toBe(1)
    expect(env.stderr).toMatch(/^cachegraph: 401: the key was refused \(from CACHE_API_KEY\)/)
    expect(ok.code).toBe(0)
  }, 60_000)
})
