/**
 * The framework floor for warm hits: a Fastify route (Tessera's HTTP framework) answering the
 * same bytes from memory, without logging, hooks or lookups: what any Fastify-based server
 * answers at most on this machine.
 * Usage: fastify-server <file> <port> <content-type>
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [file, port, contentType] = process.argv.slice(2);
if (!file || !port || !contentType) {
  process.stderr.write('usage: fastify-server <file> <port> <content-type>\n');
  process.exit(2);
}
const body = readFileSync(file);
const app = Fastify({ logger: false });
app.get('/*', async (_request, reply) =>
  reply
    .header('content-type', contentType)
    .header('etag', '"bench"')
    .header('cache-control', 'public, max-age=31536000, immutable')
    .send(body),
);
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.on('SIGTERM', () => process.exit(0));
