/** Drag and drop (and the file picker): each file goes straight to storage, with a progress bar. */
import { TesseraError, type TesseraClient } from '../sdk/index.js';
import { h } from './dom.js';

/** Files uploading at once; the others wait their turn. */
const CONCURRENT_UPLOADS = 2;

export interface UploaderOptions {
  readonly client: TesseraClient;
  /** The space new files go to, read when each upload starts. */
  readonly spaceId: () => string;
  /** The list that shows each file's progress. */
  readonly list: HTMLUListElement;
  /** Called with the new asset's id once an upload is complete. */
  readonly uploaded: (assetId: string) => Promise<void>;
}

/** Progress row of one file. */
function row(file: File): { item: HTMLLIElement; progress: HTMLProgressElement; status: HTMLElement } {
  const id = `upload-${Math.random().toString(36).slice(2)}`;
  const progress = h('progress', { id, max: 100, value: 0 });
  const status = h('span', { class: 'upload-status', role: 'status' }, 'Waiting…');
  const item = h(
    'li',
    { class: 'upload' },
    h('label', { for: id, class: 'upload-name' }, file.name),
    progress,
    status,
  );
  return { item, progress, status };
}

export class Uploader {
  private readonly queue: (() => Promise<void>)[] = [];
  private running = 0;

  constructor(private readonly options: UploaderOptions) {}

  /** Queues files for upload (anything not an image is still sent: the server says what it refuses). */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const view = row(file);
      this.options.list.prepend(view.item);
      this.options.list.closest('section')?.removeAttribute('hidden');
      this.queue.push(() => this.upload(file, view));
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < CONCURRENT_UPLOADS && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running += 1;
      void next().finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async upload(file: File, view: ReturnType<typeof row>): Promise<void> {
    const { progress, status, item } = view;
    status.textContent = 'Uploading… 0%';
    try {
      const asset = await this.options.client.directUpload(
        file,
        { spaceId: this.options.spaceId() },
        {
          onProgress: ({ fraction }) => {
            const percent = Math.round(fraction * 100);
            progress.value = percent;
            status.textContent = fraction < 1 ? `Uploading… ${percent}%` : 'Checking…';
          },
        },
      );
      progress.value = 100;
      status.textContent = 'Done';
      item.classList.add('done');
      item.dataset.assetId = asset.id;
      await this.options.uploaded(asset.id);
    } catch (error) {
      item.classList.add('failed');
      status.textContent = error instanceof TesseraError ? error.message : 'Upload failed.';
    }
  }
}

/** Dropping files anywhere on `target` uploads them; `body.dragging` shows the drop hint. */
export function acceptDrops(target: HTMLElement, onFiles: (files: File[]) => void): void {
  let depth = 0;
  const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  target.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    document.body.classList.add('dragging');
  });
  target.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  target.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove('dragging');
  });
  target.addEventListener('drop', (event) => {
    depth = 0;
    document.body.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    onFiles(files);
  });
}
