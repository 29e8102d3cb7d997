// A real S3 API server (s3rver) on loopback for the test suites, run as its own process so tests
// can stop and restart it. Usage: node s3-server.mjs <port> <directory>
//
// s3rver keeps each key's object as files in directories named after the key's prefixes and
// removes a directory when a delete leaves it empty. A put and a delete under the same prefix at
// the same moment then race: the put's directory vanishes between its mkdir and its open (an
// unhandled stream error that kills the process) or the delete's rmdir meets the put's new file.
// S3 itself has no directories, so both requests must succeed; the store's two methods below do
// what s3rver does, with those races closed.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import S3rver from 's3rver';

const [port, directory] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  vhostBuckets: false,
});
const store = server.store;

async function bytesOf(content) {
  if (Buffer.isBuffer(content)) return content;
  const chunks = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

store.putObject = async function putObject(object) {
  const content = await bytesOf(object.content);
  const md5 = createHash('md5').update(content).digest('hex');
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  for (let attempt = 0; ; attempt += 1) {
    try {
      await mkdir(dirname(objectPath), { recursive: true });
      await writeFile(objectPath, content);
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      return { size: content.length, md5 };
    } catch (error) {
      if (error.code !== 'ENOENT' || attempt >= 10) throw error;
    }
  }
};

store.deleteObject = async function deleteObject(bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucket, key, resource)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
  const parts = key.split('/');
  parts.pop();
  const bucketPath = this.getBucketPath(bucket);
  for (; parts.length > 0; parts.pop()) {
    const dir = join(bucketPath, ...parts);
    try {
      if ((await readdir(dir)).length > 0) return;
      await rmdir(dir);
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 'ENOTEMPTY') return;
      throw error;
    }
  }
};

await server.run();
process.stdout.write('ready\n');
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
