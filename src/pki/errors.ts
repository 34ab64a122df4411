/** The error raised for an inconsistent secrets folder (kept apart so the CLI can catch it without loading x509). */

/** Thrown when the stored secrets (or a folder gen writes) are unusable; nothing is generated or saved then. */
export class SecretsError extends Error {
  /** `label` starts each printed line: `secrets` for the secrets folder, `output` for the output folder. */
  constructor(
    readonly problems: string[],
    readonly label: 'secrets' | 'output' = 'secrets',
  ) {
    super(problems.join('\n'));
    this.name = 'SecretsError';
  }
}
