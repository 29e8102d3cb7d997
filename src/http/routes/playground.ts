import { gzipSync } from 'node:zlib';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

/** Example operations a newcomer sees when the playground opens. */
const EXAMPLE_QUERY = `# Welcome to Tessera. Press the run button (or Ctrl-Enter) to ask who you are.
# The Headers tab carries your API key: { "Authorization": "Bearer tsk_…" }.
# Uploads (multipart) cannot be sent from here: see the README for the curl command.

query Viewer {
  viewer {
    kind
    actorId
    scopes
    organization { id slug name }
  }
  spaces {
    id
    slug
    name
    defaultAccess
    transformPolicy
    tenant { id slug }
  }
}
`;

interface Page {
  readonly html: Buffer;
  readonly gzip: Buffer;
}

function build(headers: Record<string, string> | undefined): Page {
  const html = renderGraphiQL({
    title: 'Tessera GraphQL',
    defaultQuery: EXAMPLE_QUERY,
    headers: JSON.stringify(headers ?? { Authorization: 'Bearer ' }),
    shouldPersistHeaders: true,
  });
  const buffer = Buffer.from(html, 'utf8');
  return { html: buffer, gzip: gzipSync(buffer, { level: 6 }) };
}

/**
 * The self-contained GraphiQL page (scripts, styles and workers inlined: no CDN), built on first
 * use and kept compressed. A second variant carries a prefilled `Authorization` header, offered
 * only to loopback clients so the bootstrap key never travels beyond this machine.
 */
export class PlaygroundPages {
  private plain: Page | undefined;
  private prefilled: Page | undefined;

  constructor(private readonly bootstrapKey: () => string | undefined) {}

  page(loopback: boolean): Page {
    const key = loopback ? this.bootstrapKey() : undefined;
    if (key !== undefined) return (this.prefilled ??= build({ Authorization: `Bearer ${key}` }));
    return (this.plain ??= build(undefined));
  }
}
