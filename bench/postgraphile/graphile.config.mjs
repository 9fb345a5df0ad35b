// PostGraphile 5 as the benchmark's peer (bench/run.py starts server.mjs with this preset).
// Production settings: no GraphiQL (Ruru), no watch mode, no plan explain, errors masked
// (NODE_ENV=production, set by the launcher), schema built once at start-up from the
// database expgraph's migrations made. The one speed option set on purpose is grafserv's
// `outputDataAsString` (documented: grafast writes the response JSON as a string).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const connectionString = process.env.BENCH_PG_DSN;
if (!connectionString) {
  throw new Error("BENCH_PG_DSN (postgres://...) is required");
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      // The same pool size per worker as expgraph's (EXPGRAPH_DB_POOL_SIZE=10 in bench/run.py).
      poolConfig: { max: Number(process.env.BENCH_PG_POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: {
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    outputDataAsString: true,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
