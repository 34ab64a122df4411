/**
 * The daemons' own checks of their configuration files. run.sh runs a file's check on the new version, staged beside
 * the live one, and installs it only when the daemon accepts it: a refused file stops run.sh with the checker's words
 * and leaves the running configuration in place.
 */

/** A check: the bash function run.sh defines (`NAME FILE`: status 0 when the daemon accepts FILE) and its template. */
export interface ConfigCheck {
  name: string;
  template: string;
}

/** haproxy -c: the whole file as haproxy parses it at start (a line of more than 64 words is refused, for one). */
export const HAPROXY_CHECK: ConfigCheck = { name: 'check_haproxy', template: 'checks/haproxy.sh.ejs' };

/** keepalived -t: the file and what it includes (the VRRP interface file run.sh writes before it installs files). */
export const KEEPALIVED_CHECK: ConfigCheck = { name: 'check_keepalived', template: 'checks/keepalived.sh.ejs' };

/** nft -c: a ruleset parsed and checked by the kernel without being committed. */
export const NFT_CHECK: ConfigCheck = { name: 'check_nft', template: 'checks/nft.sh.ejs' };
