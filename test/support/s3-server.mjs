// A real S3 API server (s3rver) on loopback for the test suites, run as its own process so tests
// can stop and restart it. Usage: node s3-server.mjs <port> <directory>
import S3rver from 's3rver';

const [port, directory] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  vhostBuckets: false,
});
await server.run();
process.stdout.write('ready\n');
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
