/** Builds a host's run.sh: its steps grouped by phase, and one install line per file. */
import { KUBEHA_DIRS } from '../common/kubeha-dirs.js';
import { octal } from '../common/files.js';
import type { ConfigCheck } from './config-checks.js';
import { PHASES, type Phase, type RenderContext, type Step } from './context.js';
import { sharedRender } from './shared.js';
import { renderTemplate, shellQuote } from './templates.js';

/** A file run.sh installs: absolute target path, mode, and the check its new versions must pass. */
export interface InstalledFile {
  path: string;
  mode: number;
  check?: ConfigCheck;
}

/** Renders run.sh for one host from the steps that apply to it and the files it installs. */
export function renderRunScript(ctx: RenderContext, steps: readonly Step[], files: readonly InstalledFile[]): string {
  const mine = steps.filter((s) => s.when(ctx.host, ctx.model));
  const filesStep = { name: 'install files', script: installLines(files) };
  // Only Kubernetes nodes configure package repositories: the signing-key helpers are theirs.
  const view = (s: Step) => ({ name: s.name, script: stepScript(ctx, s) });
  const phases = PHASES.map((name: Phase) => {
    const here = mine.filter((s) => s.phase === name);
    if (name !== 'files') return { name, steps: here.map(view) };
    return { name, steps: [...here.filter((s) => s.beforeInstall).map(view), filesStep, ...here.filter((s) => !s.beforeInstall).map(view)] };
  });
  const checks = [...new Set(files.flatMap((f) => (f.check ? [f.check] : [])))].map((c) => renderTemplate(ctx.templates, c.template, { name: c.name }));
  return renderTemplate(ctx.templates, 'run.sh.ejs', {
    host: ctx.host,
    phases,
    checks,
    stateDirs: KUBEHA_DIRS,
    q: shellQuote,
    packageKeys: ctx.host.isKubernetesNode,
  });
}

/** A step's script, rendered once for all the hosts it is declared the same on. */
function stepScript(ctx: RenderContext, step: Step): string {
  const render = () => ensureNewline(step.script(ctx));
  if (step.sameOnEveryHost) return sharedRender(ctx, step, 'cluster', render);
  return step.sameForSameRoles ? sharedRender(ctx, step, 'roles', render) : render();
}

function installLines(files: readonly InstalledFile[]): string {
  return files.map((f) => `  install_file ${octal(f.mode)} ${shellQuote(f.path)}${f.check ? ` ${f.check.name}` : ''}\n`).join('');
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : text + '\n';
}
