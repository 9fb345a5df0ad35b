// The benchmark's PostGraphile 5 server: BENCH_WORKERS worker processes (node cluster)
// sharing one listening socket on 127.0.0.1:BENCH_PORT, each with its own pool.
//
// SCHED_NONE: every worker accepts from the shared socket itself (as uvicorn's workers
// do), so bench/run.py can see which worker serves a connection (/proc) and spread the
// clients evenly, as it does for expgraph. Run: node server.mjs (see bench/run.py).
import cluster from "node:cluster";
import { createServer } from "node:http";

process.env.NODE_ENV = "production";
const port = Number(process.env.BENCH_PORT ?? 5678);
const workers = Number(process.env.BENCH_WORKERS ?? 2);

cluster.schedulingPolicy = cluster.SCHED_NONE;

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
      process.exit(0);
    });
  }
} else {
  const { postgraphile } = await import("postgraphile");
  const { grafserv } = await import("postgraphile/grafserv/node");
  const { default: preset } = await import("./graphile.config.mjs");
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 120_000;
  serv.addTo(server);
  await pgl.getSchema(); // ready (schema built) before accepting connections
  server.listen(port, "127.0.0.1");
  process.on("SIGTERM", () => {
    server.close();
    pgl.release().finally(() => process.exit(0));
  });
}
