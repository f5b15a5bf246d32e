import http from 'node:http';

/**
 * Starts an HTTP server for the app (an express app, or a plain listener in front of one) and
 * resolves once it listens (rejects on EADDRINUSE etc.). Port 0 picks a free port; read it from
 * server.address().
 */
export function listen(app: http.RequestListener, port: number, host = '0.0.0.0'): Promise<http.Server> {
  const server = http.createServer(app);
  // Longer than the usual load-balancer idle timeout (60 s), so the balancer, not us, closes
  // idle keep-alive connections and never sends a request on a socket we are closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/**
 * Graceful stop: stop accepting connections, let in-flight requests finish, close keep-alive
 * connections as soon as they fall idle, and after timeoutMs destroy whatever is still open.
 * Resolves when the server is closed.
 */
export function closeServer(server: http.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    // A keep-alive connection whose request finishes after close() would otherwise stay open
    // until keepAliveTimeout; sweep idle connections until the server is gone.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
    sweep.unref();
    deadline.unref();
    server.close((err) => {
      clearInterval(sweep);
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
