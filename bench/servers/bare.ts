// The bare-route baseline of the benchmark: a Fastify app with one POST route answering 201 and one GET
// route answering a small JSON document, run as its own process like Kend. Prints "listening <url>".
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
const small = { id: 'urn:ngsi-ld:WeatherStation:s1', type: 'WeatherStation', temperature: 21.5 };

// The body is parsed (Fastify's JSON parser) like Kend's, then dropped.
app.post('/bare/entities', async (_req, reply) => reply.code(201).header('location', '/bare/entities/x').send());
app.get('/bare/entities/:id', async () => small);

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => {
  app.close().then(() => process.exit(0), () => process.exit(1));
});
