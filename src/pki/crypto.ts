/** The one place that sets @peculiar/x509's global crypto provider. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * Makes `crypto` the provider x509 falls back to where a call is given none, so that every x509 call uses the Web
 * Crypto the command injected. Issuing and renewing call it once, before their first x509 call; nothing else may
 * (test/architecture.test.ts fails on a second place).
 */
export function useCrypto(crypto: Crypto): void {
  x509.cryptoProvider.set(crypto);
}
