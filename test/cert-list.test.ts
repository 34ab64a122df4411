/** The PKI's certificate list and the code it drives: issuing, renewing and checking stored certificates. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureSecrets } from '../src/pki/ensure.js';
import { renewLeaves } from '../src/pki/renew.js';
import type { Secrets } from '../src/pki/secrets.js';
import { modelOf, REPO } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
const empty = (): Secrets => ({ files: new Map(), tokens: null });

/** A Web Crypto that fails the test on any use: what x509 would fall back to if a call were not given one. */
const poisoned = new Proxy({} as Crypto, {
  get(_, key) {
    throw new Error(`x509's global crypto provider was used (${String(key)}): a call was not given the injected crypto`);
  },
});

test("issuing and renewing use only the injected Web Crypto: x509's global provider is neither read nor set", async () => {
  const before = x509.cryptoProvider.get();
  x509.cryptoProvider.set(poisoned);
  try {
    const model = modelOf(runbook());
    const now = new Date('2026-01-01T00:00:00Z');
    const made = await ensureSecrets(model, empty(), { now, crypto: globalThis.crypto });
    assert.ok(made.changes.length > 10, `${made.changes.length} files made`);
    assert.is(x509.cryptoProvider.get(), poisoned, 'ensureSecrets set the global provider');
    const renewed = await renewLeaves(made.secrets, 400, { now, crypto: globalThis.crypto });
    assert.is(renewed.renewed.length, 7, "three members x (server, peer) and the API servers' etcd client");
    assert.is(x509.cryptoProvider.get(), poisoned, 'renewLeaves set the global provider');
  } finally {
    x509.cryptoProvider.set(before);
  }
});

test.run();
