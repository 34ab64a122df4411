/** Named rules about inventory `mirrors`: what the runtimes cannot express, and what another setting overrides. */
import { pointer, type Problem } from './problems.js';
import type { Rule } from './rules.js';

const warning = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'warning' });

/** The mirror rules, in the order they report. */
export const mirrorRules: readonly Rule[] = [
  {
    name: 'docker can use the docker.io mirror',
    check: (inv) => {
      const mirror = inv.mirrors?.registries?.['docker.io'];
      if (inv.cluster.containerRuntime !== 'docker' || mirror === undefined || new URL(mirror).pathname === '/') return [];
      return [
        warning(
          pointer('mirrors', 'registries', 'docker.io'),
          `docker's registry-mirrors takes no path, so ${mirror} cannot be set there: workloads' docker.io images come from docker.io (the cluster's own images are written with their mirror's name and are not affected)`,
        ),
      ];
    },
  },
  {
    name: 'imageRepository and a registry.k8s.io mirror',
    check: (inv) => {
      const mirror = inv.mirrors?.registries?.['registry.k8s.io'];
      if (mirror === undefined || inv.cluster.imageRepository === 'registry.k8s.io') return [];
      return [
        warning(
          pointer('mirrors', 'registries', 'registry.k8s.io'),
          `cluster.imageRepository ${inv.cluster.imageRepository} serves the control-plane, coredns and pause images; this mirror serves only other registry.k8s.io images`,
        ),
      ];
    },
  },
];
