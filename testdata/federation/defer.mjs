// A real multipart client for @defer: fetch with Accept: multipart/mixed,
// parts read by meros. Usage: node defer.mjs <url> <JSON request body>
// Prints each part as one JSON line.
import { meros } from 'meros/browser';

const [url, body] = process.argv.slice(2);
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'multipart/mixed; deferSpec=20220824, application/json' },
  body,
});
const parts = await meros(res);
if (!(Symbol.asyncIterator in Object(parts))) {
  console.error('not a multipart response:', res.headers.get('content-type'));
  process.exit(1);
}
for await (const part of parts) {
  console.log(JSON.stringify(part.body));
}
