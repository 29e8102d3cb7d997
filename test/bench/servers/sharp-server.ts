/**
 * The least an HTTP image server can do for a cold render: Sharp behind Node's own http, the
 * source bytes in memory, no registry, cache or storage. URLs: /{jpeg|webp|avif}/{width}, encoded
 * as Tessera's renderer encodes (JPEG q80 mozjpeg, WebP q80, AVIF q50 at the given effort).
 * Usage: sharp-server <file> <port> <source-width> <source-height> <avif-effort>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import sharp from 'sharp';

const [file, port, sourceWidth, sourceHeight, avifEffort] = process.argv.slice(2);
if (!file || !port || !sourceWidth || !sourceHeight || !avifEffort) {
  process.stderr.write('usage: sharp-server <file> <port> <source-width> <source-height> <avif-effort>\n');
  process.exit(2);
}
const source = readFileSync(file);
const types: Record<string, string> = { jpeg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif' };

createServer((request, response) => {
  const match = /^\/(jpeg|webp|avif)\/(\d{1,4})$/.exec(request.url ?? '');
  if (!match) {
    response.writeHead(request.url === '/' ? 200 : 404).end();
    return;
  }
  const [, format, w] = match as unknown as [string, 'jpeg' | 'webp' | 'avif', string];
  const width = Number(w);
  const resized = sharp(source).resize(
    width,
    Math.round((width * Number(sourceHeight)) / Number(sourceWidth)),
  );
  const encoded =
    format === 'jpeg'
      ? resized.jpeg({ quality: 80, mozjpeg: true })
      : format === 'webp'
        ? resized.webp({ quality: 80 })
        : resized.avif({ quality: 50, effort: Number(avifEffort) });
  encoded.toBuffer().then(
    (data) => {
      response.writeHead(200, { 'content-type': types[format]!, 'content-length': String(data.length) });
      response.end(data);
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    },
  );
}).listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
