import type { HandlerTable } from '../rooms/ports.ts';
import type { FilesService } from './FilesService.ts';

/** protoo handlers for files.*; the bytes themselves go over HTTP (files/http.ts). */
export function fileHandlers(files: FilesService): HandlerTable {
  return {
    'files.uploadToken': ({ peer }) => files.uploadToken(peer),
  };
}
