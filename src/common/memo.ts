/** Memoising in maps: one helper instead of the get-then-set dance at every cache. Pure. */

/** A key-value store that remembers: Map or WeakMap. */
interface Store<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
}

/** The value stored under `key`, made with `make` and stored the first time. */
export function remembered<K, V>(store: Store<K, V>, key: K, make: () => V): V {
  let value = store.get(key);
  if (value === undefined) {
    value = make();
    store.set(key, value);
  }
  return value;
}
