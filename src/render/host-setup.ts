/** run.sh steps every host runs whatever its roles: its name and the cluster's /etc/hosts block, its firewall openings. */
import type { RenderContext, Step } from './context.js';
import { firewalldSpec, firewallOpenings, hostsBlock, HOSTS_MARKERS, trustedSources, UFW_BEFORE_RULES, ufwSpec } from './os.js';
import { fromTemplate, shellQuote as q } from './templates.js';

const everyHost = () => true;

function hostnameView(ctx: RenderContext) {
  return {
    name: q(ctx.host.name),
    hostsBlock: q(hostsBlock(ctx.model, ctx.host)),
    blockRange: q(`/^${HOSTS_MARKERS.begin}$/,/^${HOSTS_MARKERS.end}$/`),
  };
}

function firewallView(ctx: RenderContext) {
  const openings = firewallOpenings(ctx.model, ctx.host);
  return { firewalld: firewalldSpec(openings), ufw: ufwSpec(openings), trusted: trustedSources(ctx.model, ctx.host), beforeRules: UFW_BEFORE_RULES };
}

/** The host name and firewall steps of every bundle. */
export const hostSetupSteps: readonly Step[] = [
  {
    phase: 'os',
    name: 'host name and the kubeha block of /etc/hosts',
    when: everyHost,
    script: fromTemplate('steps/os-hostname.sh.ejs', hostnameView),
  },
  {
    phase: 'os',
    name: "firewall openings of this host's roles",
    when: everyHost,
    sameForSameRoles: true,
    script: fromTemplate('steps/os-firewall.sh.ejs', firewallView),
  },
];
