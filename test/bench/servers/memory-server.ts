/**
 * The warm-hit reference: the least a Node HTTP server can do to answer an image, the same bytes
 * from memory with a content type, length and ETag, on keep-alive connections.
 * Usage: memory-server <file> <port> <content-type>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, port, contentType] = process.argv.slice(2);
if (!file || !port || !contentType) {
  process.stderr.write('usage: memory-server <file> <port> <content-type>\n');
  process.exit(2);
}
const body = readFileSync(file);
const headers = {
  'content-type': contentType,
  'content-length': String(body.length),
  etag: '"bench"',
  'cache-control': 'public, max-age=31536000, immutable',
};
createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
}).listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
