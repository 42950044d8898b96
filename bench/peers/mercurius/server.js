// A reference server for the bench: the balance query on Fastify + Mercurius with `jit: 1`, on the same
// SQLite database and SQL as the product (better-sqlite3), with the same HS256 tokens verified per request.
//   node server.js PORT DB SECRET        (bench/run.py --peers runs it when Node is on the machine)
'use strict'
const Fastify = require('fastify')
const mercurius = require('mercurius')
const Database = require('better-sqlite3')
const { createVerifier } = require('fast-jwt')

const [port, dbPath, secret] = process.argv.slice(2)
const db = new Database(dbPath, { readonly: true })
// fast-jwt's verifier is built once with its key (jsonwebtoken rebuilt the key per call: 457 us a token here).
const verify = createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] })
const balance = db.prepare(`SELECT coalesce(sum(remaining), 0) AS available FROM credit_lots
 WHERE member_id = ? AND remaining > 0 AND written_off = 0 AND expires_at > ?`)

const schema = `
type Query { viewer: Member }
type Member { id: ID! balance: Balance! }
type Balance { available: Int! }
`
const resolvers = {
  Query: {
    viewer (_, __, { reply }) {
      const header = reply.request.headers.authorization || ''
      if (!header.startsWith('Bearer ')) return null
      const claims = verify(header.slice(7))
      const [kind, key] = Buffer.from(claims.sub, 'base64url').toString().split(':')
      if (kind !== 'Member') throw new Error('not a member')
      return { id: claims.sub, key: Number(key) }
    }
  },
  Member: {
    balance (viewer) {
      return { available: balance.get(viewer.key, Math.floor(Date.now() / 1000)).available }
    }
  }
}

const app = Fastify()
app.register(mercurius, { schema, resolvers, jit: 1 })
app.listen({ port: Number(port), host: '127.0.0.1' })
