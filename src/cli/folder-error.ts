/** The error raised when a folder gen reads or writes (output or secrets), its lock, or a swap of it is unusable. */
import type { FolderRole } from './folders.js';

/** Thrown when a folder, its lock or a swap of it stands in the way; nothing is written then. */
export class FolderError extends Error {
  /** `label` (which folder) starts each printed line. */
  constructor(
    readonly problems: string[],
    readonly label: FolderRole,
  ) {
    super(problems.join('\n'));
    this.name = 'FolderError';
  }
}
