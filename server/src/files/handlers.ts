import type { HandlerTable } from '../signaling/handlers.ts';
import type { FilesService } from './FilesService.ts';

/** protoo handlers for files.*; the bytes themselves go over HTTP (http/files.ts). */
export function fileHandlers(files: FilesService): HandlerTable {
  return {
    'files.uploadToken': ({ peer }) => files.uploadToken(peer),
  };
}
