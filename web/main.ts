/** The media library page: sign in, pick a space, browse, upload, open, transform. */
import './library.css';
import {
  createTesseraClient,
  TesseraError,
  ViewerDocument,
  type TesseraClient,
  type ViewerQuery,
} from '../sdk/index.js';
import { AssetDialog } from './asset-dialog.js';
import { byId, h, replaceChildren } from './dom.js';
import { AssetGrid } from './grid.js';
import { readPageSettings, session } from './session.js';
import { acceptDrops, Uploader } from './uploads.js';

const settings = readPageSettings();

const messageOf = (error: unknown): string =>
  error instanceof TesseraError ? error.message : error instanceof Error ? error.message : String(error);

function showSignIn(message = ''): void {
  byId('library', HTMLDivElement).hidden = true;
  byId('sign-in', HTMLElement).hidden = false;
  const input = byId('api-key', HTMLInputElement);
  if (input.value === '' && settings.bootstrapKey) {
    input.value = settings.bootstrapKey;
    byId('prefilled', HTMLParagraphElement).hidden = false;
  }
  byId('sign-in-error', HTMLParagraphElement).textContent = message;
  input.focus();
}

async function signIn(apiKey: string): Promise<void> {
  const client = createTesseraClient({ url: settings.graphqlUrl, apiKey });
  let viewer: ViewerQuery;
  try {
    viewer = await client.request(ViewerDocument);
  } catch (error) {
    session.forget();
    const why =
      error instanceof TesseraError && error.code === 'UNAUTHENTICATED'
        ? 'That API key was not accepted.'
        : messageOf(error);
    showSignIn(why);
    return;
  }
  session.remember(apiKey);
  showLibrary(client, viewer);
}

function showLibrary(client: TesseraClient, viewer: ViewerQuery): void {
  byId('sign-in', HTMLElement).hidden = true;
  byId('library', HTMLDivElement).hidden = false;
  byId('organization', HTMLSpanElement).textContent = viewer.viewer.organization.name;
  const problem = byId('library-error', HTMLParagraphElement);
  const report = (error: unknown) => {
    problem.textContent = messageOf(error);
  };

  const dialog = new AssetDialog(client, byId('asset-dialog', HTMLDialogElement));
  const grid = new AssetGrid(
    client,
    byId('grid', HTMLUListElement),
    byId('more', HTMLButtonElement),
    byId('empty', HTMLParagraphElement),
    (assetId) => void dialog.open(assetId),
    report,
  );

  const picker = byId('space', HTMLSelectElement);
  const spaces = viewer.spaces;
  replaceChildren(
    picker,
    ...spaces.map((space) => h('option', { value: space.id }, `${space.name} · ${space.tenant.name}`)),
  );
  const remembered = session.spaceId();
  if (remembered && spaces.some((space) => space.id === remembered)) picker.value = remembered;
  const showSpace = () => {
    problem.textContent = '';
    session.rememberSpace(picker.value);
    void grid.show(picker.value);
  };
  picker.addEventListener('change', showSpace);

  const uploader = new Uploader({
    client,
    spaceId: () => picker.value,
    list: byId('upload-list', HTMLUListElement),
    uploaded: (assetId) => grid.addFirst(assetId).catch(report),
  });
  const files = byId('file-picker', HTMLInputElement);
  files.addEventListener('change', () => {
    if (files.files) uploader.add([...files.files]);
    files.value = '';
  });
  acceptDrops(document.documentElement, (dropped) => uploader.add(dropped));

  byId('sign-out', HTMLButtonElement).addEventListener('click', () => {
    session.forget();
    window.location.reload();
  });

  if (spaces.length === 0) {
    problem.textContent = 'This key sees no space.';
    return;
  }
  showSpace();
}

byId('sign-in-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  const key = byId('api-key', HTMLInputElement).value.trim();
  if (key !== '') void signIn(key);
});

const saved = session.apiKey();
if (saved) void signIn(saved);
else showSignIn();
