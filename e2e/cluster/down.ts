/** `npm run e2e:down` (root): removes every cluster `npm run e2e:cluster -- --keep` left running. */
import { downAll } from './keep.js';

if (process.getuid?.() !== 0) {
  console.error('npm run e2e:down must run as root');
  process.exit(2);
}
const tags = downAll();
console.log(tags.length ? `removed kept testbed${tags.length > 1 ? 's' : ''} ${tags.join(', ')}` : 'no kept testbed');
