/**
 * Which build of cachegraph the workers import: the package itself (`cachegraph`, i.e. this
 * repository's `dist/` through its `exports`), or a patched copy of `dist/` for `--break`. The
 * copy lives in a temporary directory with a `node_modules` link back to this repository, so its
 * own imports (`ioredis`) resolve as the real build's do.
 */
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { applyPatch, BREAKS } from './breaks.js'
import type { AdapterModules } from './rows-app.js'

/** Module specifiers of every entry point the workers use. */
export interface LibraryModules {
  core: string
  redis: string
  client: string
  service: string
  postgres: string
  adapters: AdapterModules
}

export interface Library extends LibraryModules {
  /** Removes the patched copy, if any. */
  dispose(): Promise<void>
}

const REPO = fileURLToPath(new URL('../../', import.meta.url))

export async function prepareLibrary(breakName: string | undefined): Promise<Library> {
  const dist = join(REPO, 'dist')
  if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'redis/index.js'))) {
    throw new Error('freshness: dist/ is missing: run `npm run build` first')
  }
  if (breakName === undefined) {
    return { ...modulesUnder((entry) => `cachegraph${entry}`), dispose: async () => {} }
  }
  const chosen = BREAKS.find((b) => b.name === breakName)
  if (chosen === undefined) throw new Error(`freshness: no break named '${breakName}'`)
  const root = await mkdtemp(join(tmpdir(), 'cgfresh-lib-'))
  try {
    await cp(dist, join(root, 'dist'), { recursive: true })
    await writeFile(join(root, 'package.json'), '{ "type": "module" }\n')
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir')
    for (const patch of chosen.patches) {
      const file = join(root, 'dist', patch.file)
      await writeFile(file, applyPatch(await readFile(file, 'utf8'), patch))
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true })
    throw error
  }
  const copy = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as PackageJson
  return {
    // The copy's files, by the package's own `exports` map (`cachegraph/redis` → its file).
    ...modulesUnder((entry) => {
      const file = copy.exports[`.${entry}`]?.default
      if (file === undefined) throw new Error(`freshness: package.json exports no '.${entry}'`)
      return pathToFileURL(join(root, file)).href
    }),
    dispose: () => rm(root, { recursive: true, force: true }),
  }
}

interface PackageJson {
  exports: Record<string, { default?: string } | undefined>
}

/** Every entry point, by `specifierOf('/redis')` (`''` for the package's main entry). */
function modulesUnder(specifierOf: (entry: string) => string): LibraryModules {
  return {
    core: specifierOf(''),
    redis: specifierOf('/redis'),
    client: specifierOf('/client'),
    service: specifierOf('/service'),
    postgres: specifierOf('/postgres'),
    adapters: {
      fastify: specifierOf('/fastify'),
      express: specifierOf('/express'),
      hono: specifierOf('/hono'),
    },
  }
}
