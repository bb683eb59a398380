// Usage: node server.mjs [port] [datadir]   (port 0 = any free port; no datadir = in-memory)
// env: MAX_CONN (pglite-socket multiplexer, default 1), COPY_FIX=0 to disable the COPY shim
import { PGlite } from '@electric-sql/pglite'
import { timescaledb } from '@electric-sql/pglite/timescaledb'
import { PGLiteSocketServer, PGLiteSocketHandler } from '@electric-sql/pglite-socket'

const t0 = Date.now()
const port = Number(process.argv[2] ?? 0)
const dataDir = process.argv[3]
// NB: PGlite.create(undefined, opts) silently ignores opts -> pass one options object
const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { timescaledb } })
if (process.env.PRECREATE === '1') await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
if (process.env.LOGSQL === '1') await db.exec("SET log_statement = 'all'; SET log_min_messages = 'info'")
const tReady = Date.now()

// PGlite traps ("RuntimeError: unreachable", process dies) when a COPY ... FROM STDIN Query is
// executed in one execProtocolRaw call and its CopyData/CopyDone arrive in later calls.
// Shim: hold the COPY Query and its CopyData messages until CopyDone/CopyFail, then run them at once.
let held = null
// PGlite's boot value of search_path is pg_catalog (it SETs public after start), so the
// "RESET ALL" asyncpg's pool sends on every release makes public tables invisible: re-SET it.
const fixResetAll = (m) => {
  if (m[0] !== 0x51) return m
  const q = Buffer.from(m.subarray(5, m.length - 1)).toString()
  if (!/\bRESET\s+ALL\b/i.test(q)) return m
  const body = Buffer.from(q.replace(/;?\s*$/, '') + '; SET search_path TO public;\0')
  const hdr = Buffer.alloc(5); hdr[0] = 0x51; hdr.writeInt32BE(body.length + 4, 1)
  return new Uint8Array(Buffer.concat([hdr, body]))
}
const isCopyIn = (m) => m[0] === 0x51 && /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i.test(Buffer.from(m.subarray(5)).toString())
const execRaw = async (m, opts) => {
  if (process.env.COPY_FIX === '0') return db.execProtocolRaw(m, opts)
  m = fixResetAll(m)
  if (held === null && isCopyIn(m)) { held = [m]; return new Uint8Array(0) }
  if (held !== null) {
    held.push(m)
    if (m[0] === 0x64) return new Uint8Array(0)            // CopyData: keep holding
    const all = Buffer.concat(held.map((x) => Buffer.from(x))); held = null
    return db.execProtocolRaw(new Uint8Array(all), opts)   // CopyDone / CopyFail / anything else
  }
  return db.execProtocolRaw(m, opts)
}
const dbProxy = new Proxy(db, { get(t, k) {
  if (k === 'execProtocolRaw') return execRaw
  const v = Reflect.get(t, k, t); return typeof v === 'function' ? v.bind(t) : v } })

// pglite-socket does not close the socket on Terminate ('X'), so asyncpg's close() hangs: close it.
const origHandleData = PGLiteSocketHandler.prototype.handleData
PGLiteSocketHandler.prototype.handleData = async function (chunk) {
  const r = await origHandleData.call(this, chunk)
  if (chunk.length >= 5 && chunk.subarray(-5).equals(Buffer.from([0x58, 0, 0, 0, 4]))) this.socket?.end()
  return r
}

const server = new PGLiteSocketServer({ db: dbProxy, port, host: '127.0.0.1', debug: !!process.env.DEBUG,
  inspect: !!process.env.INSPECT, maxConnections: Number(process.env.MAX_CONN ?? 1) })
server.addEventListener('error', (e) => console.log('SERVER-ERROR', e.detail?.message ?? e.detail))
await server.start()
console.log(`READY port=${server.port ?? port} pglite_init_ms=${tReady - t0} total_ms=${Date.now() - t0}`)
const stop = async () => { await server.stop(); process.exit(0) }
process.on('SIGINT', stop); process.on('SIGTERM', stop)
