/**
 * What the bench does as a client of a running Tessera: GraphQL requests, multipart uploads, and
 * waiting for the eager preset renders an upload starts (so that they do not load the machine
 * while something else is measured).
 */

import { Agent, get } from 'node:http';

/**
 * The client of the HTTP systems a render is asked of: Node's own http on kept-alive connections.
 * (fetch costs the bench process several times more CPU per image, taken from the cores the
 * servers render on.)
 */
const agent = new Agent({ keepAlive: true });

/** An HTTP answer, read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** GET on a kept-alive connection. */
export function httpGet(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** A header of an answer, repeated values joined. */
export const header = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** A Tessera the bench talks to over HTTP. */
export interface TesseraEndpoint {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly spaceId: string;
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * A GraphQL request.
 * @throws Error with the first error's message and code when the answer has errors or no data.
 */
export async function gql<T>(
  endpoint: TesseraEndpoint,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(`${endpoint.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return dataOf<T>(response, query);
}

async function dataOf<T>(response: Response, what: string): Promise<T> {
  const body = (await response.json()) as GraphQLBody<T>;
  const error = body.errors?.[0];
  if (error || body.data == null) {
    throw new Error(
      `GraphQL ${response.status}: ${error ? `${error.message} (${error.extensions?.code ?? 'no code'})` : 'no data'} for ${what.slice(0, 80)}`,
    );
  }
  return body.data;
}

/** An uploaded asset as the bench uses it. */
export interface UploadedAsset {
  readonly id: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Uploads a file with `uploadAsset` (GraphQL multipart request).
 * @throws Error when Tessera refuses it.
 */
export async function upload(
  endpoint: TesseraEndpoint,
  file: { name: string; bytes: Buffer },
): Promise<UploadedAsset> {
  const query = 'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id width height } }';
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({ query, variables: { input: { spaceId: endpoint.spaceId, file: null } } }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.append('0', new Blob([new Uint8Array(file.bytes)], { type: 'image/jpeg' }), file.name);
  const response = await fetch(`${endpoint.baseUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoint.apiKey}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  return (await dataOf<{ uploadAsset: UploadedAsset }>(response, `upload ${file.name}`)).uploadAsset;
}

/**
 * The public URL of a transform of an asset, as Tessera prints it (canonical: requesting it
 * renders or serves, never redirects).
 */
export async function transformUrl(
  endpoint: TesseraEndpoint,
  assetId: string,
  transform: Record<string, unknown>,
): Promise<string> {
  const data = await gql<{ asset: { url: string } }>(
    endpoint,
    'query($id: ID!, $t: TransformInput) { asset(id: $id) { url(transform: $t) } }',
    { id: assetId, t: transform },
  );
  return data.asset.url;
}

/**
 * Waits until no eager preset render of the space is pending (asks once a second: each answer
 * lists every asset).
 * @throws Error when renders are still pending after `timeoutMs` (default 120 s).
 */
export async function waitForEagerRenders(endpoint: TesseraEndpoint, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    let after: string | null = null;
    for (;;) {
      const data: {
        assets: {
          edges: { node: { processing: { status: string }[] } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      } = await gql(
        endpoint,
        `query($space: ID!, $after: String) { assets(spaceId: $space, first: 100, after: $after) {
           edges { node { processing { status } } } pageInfo { hasNextPage endCursor } } }`,
        { space: endpoint.spaceId, after },
      );
      for (const edge of data.assets.edges)
        pending += edge.node.processing.filter((p) => p.status === 'PENDING').length;
      if (!data.assets.pageInfo.hasNextPage) break;
      after = data.assets.pageInfo.endCursor;
    }
    if (pending === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${pending} eager renders still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
