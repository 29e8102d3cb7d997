/** An asset opened: its preview, metadata, EXIF, eager presets, variants and the transform editor. */
import { AssetDocument, TesseraError, type AssetDetailFragment, type TesseraClient } from '../sdk/index.js';
import { definitionList, formatBytes, h, replaceChildren, type Child } from './dom.js';
import { transformEditor } from './transform-editor.js';

/** While an eager preset is pending, ask again this often, ms. */
const PROCESSING_POLL_MS = 2000;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value of EXIF as text: numbers and strings as they are, lists joined, the rest as JSON. */
function exifText(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return value.join(', ');
  return JSON.stringify(value);
}

function exifSection(exif: unknown): HTMLElement {
  if (!isRecord(exif) || Object.keys(exif).length === 0) return h('p', { class: 'muted' }, 'No EXIF.');
  const groups = Object.entries(exif).map(([group, entries]) =>
    h(
      'details',
      { class: 'exif-group', open: group === 'Image' || group === 'Photo' },
      h('summary', {}, group),
      isRecord(entries)
        ? definitionList(Object.entries(entries).map(([name, value]) => [name, exifText(value)] as const))
        : h('p', {}, exifText(entries)),
    ),
  );
  return h('div', { class: 'exif' }, ...groups);
}

function metadata(asset: AssetDetailFragment): HTMLElement {
  const rows: [string, Child][] = [
    ['Dimensions', `${asset.width} × ${asset.height} px`],
    ['Format', asset.format],
    ['Media type', asset.mimeType],
    ['Size', `${formatBytes(asset.bytes)} (${asset.bytes.toLocaleString()} bytes)`],
    ['Version', asset.version],
    ['Access', asset.access.toLowerCase()],
    ['Colour space', asset.colorSpace],
    ['Alpha', asset.hasAlpha ? 'yes' : 'no'],
    ['Frames', asset.animated ? `${asset.frames} (animated)` : null],
    ['Tags', asset.tags.length > 0 ? asset.tags.join(', ') : 'none'],
    ['Folder', asset.folder === '' ? '/' : asset.folder],
    ['Focal point', asset.focalPoint ? `${asset.focalPoint.x}, ${asset.focalPoint.y}` : null],
    ['Uploaded', dateTime.format(new Date(asset.createdAt))],
    ['SHA-256', h('code', {}, asset.sha256)],
    ['Id', h('code', {}, asset.id)],
  ];
  return definitionList(rows, 'metadata');
}

function processing(asset: AssetDetailFragment): HTMLElement {
  if (asset.processing.length === 0) return h('p', { class: 'muted' }, 'No eager presets for this asset.');
  return h(
    'ul',
    { class: 'processing' },
    ...asset.processing.map((entry) =>
      h(
        'li',
        { 'data-status': entry.status },
        h('span', {}, entry.preset.name, ' ', h('code', {}, entry.preset.slug)),
        ' ',
        h('span', { class: `status status-${entry.status.toLowerCase()}` }, entry.status.toLowerCase()),
      ),
    ),
  );
}

function variants(asset: AssetDetailFragment): HTMLElement {
  const rows = asset.variants.edges.map(({ node }) =>
    h(
      'tr',
      {},
      h(
        'td',
        {},
        h('a', { href: node.url, target: '_blank', rel: 'noopener' }, h('code', {}, node.canonical)),
      ),
      h('td', {}, node.format),
      h('td', {}, `${node.width} × ${node.height}`),
      h('td', {}, formatBytes(node.bytes)),
      h('td', {}, `${node.processingMs} ms`),
    ),
  );
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No variants rendered yet.');
  return h(
    'table',
    { class: 'variants' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Transform', 'Format', 'Size (px)', 'Bytes', 'Render'].map((title) =>
          h('th', { scope: 'col' }, title),
        ),
      ),
    ),
    h('tbody', {}, ...rows),
  );
}

/** The dialog that shows one asset at a time. */
export class AssetDialog {
  private assetId: string | undefined;
  private poll: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: TesseraClient,
    private readonly dialog: HTMLDialogElement,
  ) {
    dialog.addEventListener('close', () => {
      this.assetId = undefined;
      clearTimeout(this.poll);
    });
    dialog.addEventListener('click', (event) => {
      if (event.target === dialog) dialog.close();
    });
  }

  private async fetch(assetId: string): Promise<AssetDetailFragment | null> {
    const { asset } = await this.client.request(AssetDocument, {
      id: assetId,
      preview: { width: 960, height: 960, fit: 'INSIDE', format: 'AUTO' },
    });
    return asset;
  }

  /** Opens the dialog on an asset. */
  async open(assetId: string): Promise<void> {
    this.assetId = assetId;
    const body = this.dialog.querySelector('.dialog-body') ?? this.dialog;
    replaceChildren(body as Element, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const asset = await this.fetch(assetId);
      if (this.assetId !== assetId) return;
      if (!asset) {
        replaceChildren(
          body as Element,
          h('p', { class: 'error', role: 'alert' }, 'This asset no longer exists.'),
        );
        return;
      }
      this.render(asset, body as Element);
    } catch (error) {
      const message = error instanceof TesseraError ? error.message : 'Could not load the asset.';
      replaceChildren(body as Element, h('p', { class: 'error', role: 'alert' }, message));
    }
  }

  private render(asset: AssetDetailFragment, body: Element): void {
    const title = this.dialog.querySelector('#asset-title');
    if (title) title.textContent = asset.filename;
    const preview = h('img', {
      src: asset.preview.url,
      srcset: asset.preview.srcSet,
      sizes: '(max-width: 60rem) 100vw, 30rem',
      width: asset.preview.width,
      height: asset.preview.height,
      alt: asset.filename,
    });
    const frame = h('figure', { class: 'preview' }, preview);
    frame.style.backgroundImage = `url("${asset.placeholder.dataUri}")`;
    const processingBox = h('div', {}, processing(asset));
    const variantsBox = h('div', {}, variants(asset));
    const refreshLists = async () => {
      const fresh = await this.fetch(asset.id).catch(() => null);
      if (!fresh || this.assetId !== asset.id) return;
      replaceChildren(processingBox, processing(fresh));
      replaceChildren(variantsBox, variants(fresh));
      this.schedulePoll(fresh, refreshLists);
    };
    replaceChildren(
      body,
      h(
        'div',
        { class: 'detail' },
        h(
          'div',
          { class: 'detail-side' },
          frame,
          h(
            'section',
            { 'aria-labelledby': 'metadata-title' },
            h('h3', { id: 'metadata-title' }, 'Metadata'),
            metadata(asset),
          ),
          h(
            'section',
            { 'aria-labelledby': 'exif-title' },
            h('h3', { id: 'exif-title' }, 'EXIF'),
            exifSection(asset.exif),
          ),
        ),
        h(
          'div',
          { class: 'detail-main' },
          h(
            'section',
            { 'aria-labelledby': 'editor-title' },
            h('h3', { id: 'editor-title' }, 'Transform'),
            transformEditor(this.client, asset, () => void refreshLists()),
          ),
          h(
            'section',
            { 'aria-labelledby': 'processing-title' },
            h('h3', { id: 'processing-title' }, 'Processing'),
            processingBox,
          ),
          h(
            'section',
            { 'aria-labelledby': 'variants-title' },
            h('h3', { id: 'variants-title' }, 'Variants'),
            variantsBox,
          ),
        ),
      ),
    );
    this.schedulePoll(asset, refreshLists);
  }

  private schedulePoll(asset: AssetDetailFragment, refresh: () => Promise<void>): void {
    clearTimeout(this.poll);
    if (asset.processing.some((entry) => entry.status === 'PENDING')) {
      this.poll = setTimeout(() => void refresh(), PROCESSING_POLL_MS);
    }
  }
}
