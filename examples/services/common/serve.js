'use strict';
// Starts one example service: Fastify on 127.0.0.1:$PORT (0: a free port), one JSON line on stdout
// once it listens ({"service","port"}), and a clean stop on SIGTERM/SIGINT (server, then whatever
// `onClose` releases: database clients, Redis). Shared by before/ and after/: it holds no data code.
const Fastify = require('fastify');

/**
 * @param {string} name the service's name, for the start-up line
 * @param {(app: import('fastify').FastifyInstance) => void} routes registers the routes
 * @param {() => Promise<void>} onClose releases the service's connections
 */
async function serve(name, routes, onClose) {
  const app = Fastify({ logger: false });
  routes(app);
  app.setErrorHandler((err, _req, reply) => {
    reply.code(err.statusCode ?? 500).send({ error: err.message });
  });
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
  process.stdout.write(`${JSON.stringify({ service: name, port: Number(new URL(address).port) })}\n`);
  const stop = async () => {
    await app.close();
    await onClose();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

module.exports = { serve };
