/** Lookup tables keyed by strings that come from the inventory. Pure. */

/**
 * A frozen copy of `entries` without a prototype: looking up a key it does not hold, such as "constructor" or
 * "__proto__", gives undefined, not a property every object inherits.
 */
export function table<T extends object>(entries: T): Readonly<T> {
  return Object.freeze(Object.assign(Object.create(null) as T, entries));
}
