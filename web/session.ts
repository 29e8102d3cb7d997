/** What the server told the page (meta tags) and what the page keeps for this browser tab. */

/** Settings the server writes into the page's `<meta>` tags. */
export interface PageSettings {
  /** Absolute URL of Tessera's GraphQL endpoint (`tessera-graphql`, resolved against the page). */
  readonly graphqlUrl: string;
  /** The embedded bootstrap key, offered only to a browser on the server's own machine. */
  readonly bootstrapKey: string | undefined;
}

const meta = (name: string): string | undefined =>
  document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content || undefined;

export function readPageSettings(): PageSettings {
  return {
    graphqlUrl: new URL(meta('tessera-graphql') ?? '/graphql', document.baseURI).toString(),
    bootstrapKey: meta('tessera-bootstrap-key'),
  };
}

const KEY = 'tessera.apiKey';
const SPACE = 'tessera.spaceId';

/** Storage of this tab only: the key is gone when the tab closes. */
function store(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export const session = {
  apiKey: (): string | undefined => store()?.getItem(KEY) ?? undefined,
  spaceId: (): string | undefined => store()?.getItem(SPACE) ?? undefined,
  remember(apiKey: string): void {
    store()?.setItem(KEY, apiKey);
  },
  rememberSpace(spaceId: string): void {
    store()?.setItem(SPACE, spaceId);
  },
  forget(): void {
    store()?.removeItem(KEY);
    store()?.removeItem(SPACE);
  },
};
