/** Builds a host's run.sh: its steps grouped by phase, and one install line per file. */
import { octal } from '../common/files.js';
import { PHASES, type Phase, type RenderContext, type Step } from './context.js';
import { sharedRender } from './shared.js';
import { renderTemplate, shellQuote } from './templates.js';

/** A file run.sh installs: absolute target path and mode. */
export interface InstalledFile {
  path: string;
  mode: number;
}

/** Renders run.sh for one host from the steps that apply to it and the files it installs. */
export function renderRunScript(ctx: RenderContext, steps: readonly Step[], files: readonly InstalledFile[]): string {
  const mine = steps.filter((s) => s.when(ctx.host, ctx.model));
  const filesStep = { name: 'install files', script: installLines(files) };
  const phases = PHASES.map((name: Phase) => ({
    name,
    steps: [...(name === 'files' ? [filesStep] : []), ...mine.filter((s) => s.phase === name).map((s) => ({ name: s.name, script: stepScript(ctx, s) }))],
  }));
  // Only Kubernetes nodes configure package repositories: the signing-key helpers are theirs.
  return renderTemplate(ctx.templates, 'run.sh.ejs', { host: ctx.host, phases, q: shellQuote, packageKeys: ctx.host.isKubernetesNode });
}

/** A step's script, rendered once for all the hosts it is declared the same on. */
function stepScript(ctx: RenderContext, step: Step): string {
  const render = () => ensureNewline(step.script(ctx));
  if (step.sameOnEveryHost) return sharedRender(ctx, step, 'cluster', render);
  return step.sameForSameRoles ? sharedRender(ctx, step, 'roles', render) : render();
}

function installLines(files: readonly InstalledFile[]): string {
  return files.map((f) => `  install_file ${octal(f.mode)} ${shellQuote(f.path)}\n`).join('');
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : text + '\n';
}
