/** The failover design of keepalived.conf, as comment lines whose numbers come from the generated settings. */
import type { HostModel } from '../model/types.js';

/** The check timing keepalived tracks. */
export interface CheckTiming {
  interval: number;
  timeout: number;
  fall: number;
  rise: number;
}

/** RFC 3768 skew time of a backup with this priority, in seconds: (256 - priority) × advert_int / 256. */
export function skewTime(priority: number, advertInt: number): number {
  return ((256 - priority) * advertInt) / 256;
}

const seconds = (value: number) => `${Number(value.toFixed(2))} s`;

/** Explains who holds the VIP, how fast it moves and why, for this host's keepalived.conf. */
export function keepalivedDesign(host: HostModel, loadBalancers: readonly HostModel[], check: CheckTiming, advertInt: number): string[] {
  const priorities = loadBalancers.map((h) => `${h.name} ${h.vrrpPriority}`).join(', ');
  const lines = [
    `Every load balancer starts as BACKUP with nopreempt. Priorities: ${priorities} (this host: ${host.vrrpPriority}).`,
    'At start the first node whose master-down timer expires takes the VIP (the priorities break a tie: a higher one',
    'waits a few ms less); after that the master keeps the VIP until it fails, and a recovered node never takes it',
    'back (no second flap).',
    `The check runs every ${check.interval} s (killed after ${check.timeout} s). ${check.fall} failures in a row, that is ${check.fall} × ${check.interval} s = ` +
      `${check.fall * check.interval} s (at most ${check.fall} × (${check.interval} + ${check.timeout}) s = ${check.fall * (check.interval + check.timeout)} s if it hangs),`,
    'put this node in FAULT: it drops the VIP and sends a priority-0 advert.',
  ];
  const next = loadBalancers.find((h) => h !== host);
  if (!next || next.vrrpPriority === null)
    return [...lines, 'This is the only load balancer: there is no peer to fail over to (and no unicast peer to send adverts to).'];
  const skew = skewTime(next.vrrpPriority, advertInt);
  const masterDown = 3 * advertInt + skew;
  return [
    ...lines,
    `A backup then takes over after its skew time: (256 - ${next.vrrpPriority}) × ${advertInt} / 256 = ${seconds(skew)} for ${next.name}.`,
    'The check has no weight, on purpose: a weight only shifts priorities, and with nopreempt a backup never',
    'preempts a running master whatever the priorities, so a weighted failure would never move the VIP. FAULT',
    'releases it at once to the healthiest peer. A node in FAULT returns as BACKUP after ' +
      `${check.rise} successes (${check.rise} × ${check.interval} s = ${check.rise * check.interval} s).`,
    `If the master dies, ${next.name} takes over after 3 × advert_int + skew = 3 × ${advertInt} + ${seconds(skew)} = ${seconds(masterDown)}.`,
  ];
}
