/**
 * The live transform editor: the controls make a `TransformInput`, Tessera answers the URL and
 * the size it predicts (`asset.image(transform)`), and the image below shows what that URL renders.
 */
import {
  AssetImageDocument,
  TesseraError,
  TransformAssetDocument,
  type Fit,
  type Gravity,
  type ImageFormat,
  type TesseraClient,
  type TransformInput,
} from '../sdk/index.js';
import { h } from './dom.js';

const FITS: readonly Fit[] = ['COVER', 'CONTAIN', 'FILL', 'INSIDE', 'OUTSIDE', 'PAD'];
const GRAVITIES: readonly Gravity[] = [
  'CENTER',
  'NORTH',
  'NORTH_EAST',
  'EAST',
  'SOUTH_EAST',
  'SOUTH',
  'SOUTH_WEST',
  'WEST',
  'NORTH_WEST',
  'ATTENTION',
  'ENTROPY',
  'FOCAL',
];
const FORMATS: readonly ImageFormat[] = ['AUTO', 'JPG', 'PNG', 'WEBP', 'AVIF', 'GIF'];
/** Wait this long after the last change before asking for a URL, ms. */
const DEBOUNCE_MS = 150;

const label = (value: string): string => value.toLowerCase().replaceAll('_', ' ');

function numberField(name: string, text: string, attributes: Record<string, string | number>): HTMLElement {
  const id = `transform-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, text),
    h('input', { id, name, type: 'number', inputmode: 'decimal', ...attributes }),
  );
}

function selectField(name: string, text: string, values: readonly string[], none: string): HTMLElement {
  const id = `transform-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, text),
    h(
      'select',
      { id, name },
      h('option', { value: '' }, none),
      ...values.map((value) => h('option', { value }, label(value))),
    ),
  );
}

function checkbox(name: string, text: string): HTMLElement {
  const id = `transform-${name}`;
  return h(
    'div',
    { class: 'field check' },
    h('input', { id, name, type: 'checkbox' }),
    h('label', { for: id }, text),
  );
}

/** The TransformInput the form's controls describe (empty controls are left out). */
export function transformOf(form: HTMLFormElement): TransformInput {
  const data = new FormData(form);
  const text = (name: string): string => String(data.get(name) ?? '').trim();
  const number = (name: string): number | undefined => (text(name) === '' ? undefined : Number(text(name)));
  const transform: TransformInput = {
    width: number('width'),
    height: number('height'),
    fit: (text('fit') || undefined) as Fit | undefined,
    gravity: (text('gravity') || undefined) as Gravity | undefined,
    format: (text('format') || undefined) as ImageFormat | undefined,
    quality: number('quality'),
    rotate: number('rotate'),
    blur: number('blur'),
    sharpen: number('sharpen'),
    dpr: number('dpr'),
    grayscale: data.has('grayscale') || undefined,
    flip: data.has('flip') || undefined,
    flop: data.has('flop') || undefined,
  };
  return Object.fromEntries(Object.entries(transform).filter(([, value]) => value !== undefined));
}

/** Builds the editor for one asset; `changed` is told when a variant was rendered. */
export function transformEditor(
  client: TesseraClient,
  asset: { id: string; width: number; filename: string },
  changed: () => void,
): HTMLElement {
  const form = h(
    'form',
    { class: 'transform-form', 'aria-label': 'Transform' },
    numberField('width', 'Width (px)', { min: 1, max: 8192, step: 1, value: Math.min(600, asset.width) }),
    numberField('height', 'Height (px)', { min: 1, max: 8192, step: 1 }),
    selectField('fit', 'Fit', FITS, 'default (cover)'),
    selectField('gravity', 'Gravity', GRAVITIES, 'default (center)'),
    selectField('format', 'Format', FORMATS, 'as the original'),
    numberField('quality', 'Quality (1–100)', { min: 1, max: 100, step: 1, placeholder: 'auto' }),
    selectField('rotate', 'Rotate (°)', ['90', '180', '270'], 'none'),
    numberField('blur', 'Blur (sigma)', { min: 0.3, max: 1000, step: 0.1 }),
    numberField('sharpen', 'Sharpen (sigma)', { min: 0.3, max: 10, step: 0.1 }),
    selectField('dpr', 'Pixel ratio', ['2', '3', '4'], '1'),
    checkbox('grayscale', 'Black and white'),
    checkbox('flip', 'Flip (vertical)'),
    checkbox('flop', 'Flop (horizontal)'),
  );
  const url = h('input', {
    id: 'transform-url',
    type: 'text',
    readonly: true,
    class: 'url',
    spellcheck: 'false',
  });
  const predicted = h('output', { id: 'transform-predicted', for: 'transform-url' });
  const rendered = h('span', { id: 'transform-rendered', role: 'status' });
  const problem = h('p', { id: 'transform-error', class: 'error', role: 'alert' });
  const image = h('img', { id: 'transform-image', alt: `${asset.filename}, transformed` });
  const open = h('a', { href: '#', target: '_blank', rel: 'noopener' }, 'Open');
  const save = h('button', { type: 'button' }, 'Render as a variant');

  let sequence = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = async () => {
    const mine = ++sequence;
    const transform = transformOf(form);
    try {
      const { asset: answer } = await client.request(AssetImageDocument, { id: asset.id, transform });
      if (mine !== sequence || !answer) return;
      problem.textContent = '';
      const next = answer.image;
      predicted.textContent = `${next.width} × ${next.height} px predicted`;
      if (url.value !== next.url) {
        url.value = next.url;
        open.href = next.url;
        rendered.textContent = 'Rendering…';
        image.src = next.url;
      }
    } catch (error) {
      if (mine !== sequence) return;
      problem.textContent = error instanceof TesseraError ? error.message : 'Could not build the URL.';
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), DEBOUNCE_MS);
  };
  form.addEventListener('input', schedule);
  form.addEventListener('change', schedule);
  form.addEventListener('submit', (event) => event.preventDefault());
  image.addEventListener('load', () => {
    rendered.textContent = `Rendered ${image.naturalWidth} × ${image.naturalHeight} px`;
  });
  image.addEventListener('error', () => {
    rendered.textContent = 'The image could not be rendered.';
  });
  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      const { transformAsset } = await client.request(TransformAssetDocument, {
        assetId: asset.id,
        transform: transformOf(form),
      });
      rendered.textContent = `Saved variant ${transformAsset.canonical} (${transformAsset.width} × ${transformAsset.height} px)`;
      changed();
    } catch (error) {
      problem.textContent = error instanceof TesseraError ? error.message : 'Could not render the variant.';
    } finally {
      save.disabled = false;
    }
  });
  void refresh();

  return h(
    'div',
    { class: 'transform-editor' },
    form,
    h(
      'div',
      { class: 'transform-result' },
      h('label', { for: 'transform-url' }, 'URL'),
      h('div', { class: 'url-row' }, url, open),
      h('p', { class: 'sizes' }, predicted, ' · ', rendered),
      problem,
      h('div', { class: 'transform-preview' }, image),
      save,
    ),
  );
}
