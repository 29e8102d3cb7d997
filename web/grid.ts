/** The grid of a space's assets: placeholders at once, sharpening into responsive images. */
import {
  AssetsDocument,
  AssetTileDocument,
  type AssetTileFragment,
  type TesseraClient,
  type TransformInput,
} from '../sdk/index.js';
import { h } from './dom.js';

/** Tiles are squares of this many CSS pixels at most, cropped to fill. */
export const TILE: TransformInput = { width: 320, height: 320, fit: 'COVER', format: 'AUTO' };
const PAGE_SIZE = 24;

/** One tile: a button showing the placeholder, then the image once it has loaded. */
export function tileOf(asset: AssetTileFragment, open: (assetId: string) => void): HTMLLIElement {
  const image = h('img', {
    src: asset.image.url,
    srcset: asset.image.srcSet,
    sizes: asset.image.sizes,
    width: asset.image.width,
    height: asset.image.height,
    alt: asset.filename,
    loading: 'lazy',
    decoding: 'async',
  });
  const frame = h('span', { class: 'tile-frame' }, image);
  // The tiny blurred WebP shows at once; the dominant colour shows before even that.
  frame.style.backgroundColor = asset.placeholder.dominantColor;
  frame.style.backgroundImage = `url("${asset.placeholder.dataUri}")`;
  frame.style.aspectRatio = `${asset.image.width} / ${asset.image.height}`;
  const settle = () => frame.classList.add(image.naturalWidth > 0 ? 'loaded' : 'failed');
  if (image.complete) settle();
  else {
    image.addEventListener('load', settle, { once: true });
    image.addEventListener('error', settle, { once: true });
  }
  const button = h(
    'button',
    { type: 'button', class: 'tile-open', 'aria-label': `Open ${asset.filename}` },
    frame,
    h('span', { class: 'tile-name' }, asset.filename),
  );
  button.addEventListener('click', () => open(asset.id));
  return h('li', { class: 'tile', 'data-asset-id': asset.id }, button);
}

/** The grid of one space, page by page. */
export class AssetGrid {
  private after: string | null = null;
  private loading = false;
  private generation = 0;

  constructor(
    private readonly client: TesseraClient,
    private readonly list: HTMLUListElement,
    private readonly more: HTMLButtonElement,
    private readonly empty: HTMLElement,
    private readonly open: (assetId: string) => void,
    private readonly report: (error: unknown) => void,
  ) {
    more.addEventListener('click', () => void this.nextPage());
  }

  private spaceId = '';

  /** Shows the first page of a space. */
  async show(spaceId: string): Promise<void> {
    this.spaceId = spaceId;
    this.after = null;
    this.generation += 1;
    this.list.replaceChildren();
    this.loading = false;
    await this.nextPage();
  }

  private async nextPage(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    const generation = this.generation;
    this.list.setAttribute('aria-busy', 'true');
    try {
      const { assets } = await this.client.request(AssetsDocument, {
        spaceId: this.spaceId,
        first: PAGE_SIZE,
        after: this.after,
        tile: TILE,
      });
      if (generation !== this.generation) return;
      for (const edge of assets.edges) {
        if (!this.find(edge.node.id)) this.list.append(tileOf(edge.node, this.open));
      }
      this.after = assets.pageInfo.endCursor;
      this.more.hidden = !assets.pageInfo.hasNextPage;
    } catch (error) {
      this.report(error);
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.list.setAttribute('aria-busy', 'false');
        this.empty.hidden = this.list.childElementCount > 0;
      }
    }
  }

  private find(assetId: string): HTMLLIElement | undefined {
    return [...this.list.children].find(
      (child): child is HTMLLIElement => child instanceof HTMLLIElement && child.dataset.assetId === assetId,
    );
  }

  /** Puts an asset first in the grid (a new upload; an upload of known bytes moves its tile). */
  async addFirst(assetId: string): Promise<void> {
    const { asset } = await this.client.request(AssetTileDocument, { id: assetId, tile: TILE });
    if (!asset) return;
    this.find(assetId)?.remove();
    this.list.prepend(tileOf(asset, this.open));
    this.empty.hidden = true;
  }
}
