/** The error raised for an inconsistent secrets folder (kept apart so the CLI can catch it without loading x509). */

/** Thrown when the stored secrets are unusable (a key that does not match, a CA that is no CA, ...); nothing is generated or saved then. */
export class SecretsError extends Error {
  /** Starts each printed line, as a FolderError's label does. */
  readonly label = 'secrets';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SecretsError';
  }
}
