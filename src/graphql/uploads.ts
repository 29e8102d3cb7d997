import type { Readable } from 'node:stream';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { DomainError, ErrorCode } from '../errors/index.js';

/**
 * The stream of an uploaded file. graphql-upload throws at once (status 413) when the file passed
 * its size limit before the resolver asked for it; that is the client's file being too large.
 * @throws DomainError PAYLOAD_TOO_LARGE
 */
export function openUpload(file: FileUpload): Readable {
  try {
    return file.createReadStream();
  } catch (error) {
    const status =
      (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
      (error as { statusCode?: unknown } | null)?.statusCode;
    if (status === 413)
      throw new DomainError(ErrorCode.PayloadTooLarge, 'The file is larger than the upload limit.', {
        cause: error,
      });
    throw new DomainError(
      ErrorCode.BadUserInput,
      'The upload was interrupted before the file was complete.',
      { cause: error },
    );
  }
}
