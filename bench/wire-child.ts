// A wire-format OpenAI test server in its own process (so that it does not share the measured event loop).
// Streams CHUNKS pieces per request; prints its base URL on stdout.
import { openAiServer } from '../test/support/wireServers.js';

void (async () => {
  const s = await openAiServer();
  s.fallback = { kind: 'ok', chunks: ['tok '], repeat: Number(process.env.CHUNKS ?? 1000) };
  // Keep no request log: the bench sends hundreds of thousands of chunks.
  s.requests.push = () => 0;
  process.stdout.write(`${s.url}\n`);
})();
