export const HELP = `cachegraph — the central invalidation service of cachegraph, and its client commands

Usage:
  cachegraph serve [options]          run the invalidation service (plain node:http)
  cachegraph invalidate [options]     invalidate tags, entities or keys through a running service
  cachegraph stats [options]          print the service cache's stats (JSON)
  cachegraph help | --help            this text

serve options:
  --port <n>          port to listen on; 0 picks a free one       env PORT      default 8080
  --host <addr>       address to listen on                                      default 127.0.0.1
  --redis <url>       Redis to invalidate in (redis://...): the shared store plus its bus, so
                      every app process's L1 drops the entries    env REDIS_URL
                      Without it the service runs on an embedded in-process memory store (good
                      for trying it out; it shares nothing with your apps) and says so at start.
  --prefix <p>        Redis key prefix; must match your apps' redisStore({ prefix })  default cg
  --namespace <ns>    cache namespace to act on; must match your apps' createCache({ namespace })
                                                                                default cg
  --max-body <size>   largest request body, in bytes (or with k / m: 512k, 1m); larger → 413
                                                                                default 1m
  --api-key <key>     an accepted API key (repeatable)            env CACHE_API_KEY
                      more keys, comma-separated (for rotation)   env CACHE_API_KEYS
  --insecure          serve without any API key (refused otherwise)
  --postgres <url>    capture changes from PostgreSQL (docs/postgres.md): every committed
                      INSERT, UPDATE or DELETE of a --table invalidates its entity and list tags
  --table <t=entity>  a table to capture: products=product, or shop.items=item:KEY when the key
                      column is not the primary key (repeatable; needs --postgres)
  --postgres-mode <m> triggers (outbox + NOTIFY) or replication (wal_level=logical)
                                                                                default triggers
  --postgres-name <n> the listener's name: its position is stored under it      default cachegraph

  Endpoints: POST /cache/invalidate  {"entity_id":1,"entity_type":"user"} | {"tags":[...]} |
             {"keys":[...]} | a JSON list of those   (header x-api-key: KEY, or
             Authorization: Bearer KEY) → {"status":"invalidated","seq":...,"tags":[...]}
             GET /health (no key), GET /metrics (Prometheus), /api/cache/... (admin API).
  SIGTERM / SIGINT: stops accepting, finishes requests in flight, closes the cache, exits 0.

invalidate options:
  --tag <tag>         a tag to invalidate (repeatable)
  --entity <type:id>  an entity to invalidate, e.g. user:1 (repeatable)
  --key <key>         a key to delete (repeatable)
  --url <url>         the service's base URL        env CACHEGRAPH_URL   default http://127.0.0.1:8080
  --api-key <key>     the API key to send           env CACHE_API_KEY
  --timeout <ms>      give up after this long                            default 5000

stats options: --url, --api-key, --timeout as above.

Exit codes:
  0  ok (the service answered 2xx; serve stopped cleanly)
  1  the service refused or failed the request (non-2xx: 401, 400, 503...), or serve could not start;
     a 401 says whether a key was sent at all
  2  usage error (unknown command or flag, bad value, serve without an API key or --insecure), and
     a bad URL in any command — --url, --redis, --postgres, CACHEGRAPH_URL, REDIS_URL — named
  3  the service could not be reached (connection refused, DNS failure, timeout)
`
