/**
 * The cold-render reference: ipx (the image server of Nuxt Image and Netlify) serving a directory
 * through its own Node listener, as `npx ipx serve --dir` does, on loopback.
 * URLs: /{modifiers}/{file}, e.g. /w_720,q_80,f_jpeg/bench.jpg.
 * Usage: ipx-server <dir> <port>
 */
import { createServer } from 'node:http';
import { createIPX, createIPXNodeServer, ipxFSStorage } from 'ipx';

const [dir, port] = process.argv.slice(2);
if (!dir || !port) {
  process.stderr.write('usage: ipx-server <dir> <port>\n');
  process.exit(2);
}
const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
createServer(createIPXNodeServer(ipx)).listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
