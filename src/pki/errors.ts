/** The error raised for an inconsistent secrets folder (kept apart so the CLI can catch it without loading x509). */

/** Thrown when the stored secrets are inconsistent; nothing is generated or saved then. */
export class SecretsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SecretsError';
  }
}
