// A Node.js client of Flow's public gRPC API, built from protos/ at run time with
// @grpc/proto-loader: it authenticates with a bearer token, submits a DagSpec, triggers it,
// follows one task's log, waits for the run to succeed and prints a JSON summary.
//
//   FLOW_SERVER=127.0.0.1:50051 FLOW_TOKEN=flow_... node client.js [dag_id]
//
// Exit code 0 when the run succeeded, 1 otherwise. tests/e2e/test_node_client.py runs it.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTOS = path.resolve(__dirname, '..', '..', 'protos');
const SERVER = process.env.FLOW_SERVER || '127.0.0.1:50051';
const TOKEN = process.env.FLOW_TOKEN || '';
const DAG_ID = process.argv[2] || 'node_client_spec';
const DEADLINE_MS = 120000;

function load() {
  const definition = protoLoader.loadSync(
    ['flow/v1/dag_spec_service.proto', 'flow/v1/dag_run_service.proto',
      'flow/v1/task_instance_service.proto'],
    { includeDirs: [PROTOS], keepCase: true, longs: Number, enums: String, defaults: true,
      oneofs: true });
  return grpc.loadPackageDefinition(definition).flow.v1;
}

// Every call carries `authorization: Bearer <token>` in its metadata (the gateway's gRPC
// listener is plain TCP here; with TLS, grpc.credentials.combineChannelCredentials would
// attach the same header through call credentials).
function meta() {
  const metadata = new grpc.Metadata();
  metadata.add('authorization', `Bearer ${TOKEN}`);
  return metadata;
}

function deadline() {
  return { deadline: Date.now() + DEADLINE_MS };
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, meta(), deadline(), (error, response) => {
      if (error) reject(error); else resolve(response);
    });
  });
}

function collect(stream, onItem) {
  return new Promise((resolve, reject) => {
    stream.on('data', onItem);
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

const SPEC = {
  dag_id: DAG_ID,
  description: 'Submitted by the Node.js client',
  tags: ['node'],
  params: { fields: { greeting: { stringValue: 'hello from node' } } },
  tasks: [
    { task_id: 'greet', command: { command: 'echo "{{ params.greeting }}"; echo node-marker-1' } },
    { task_id: 'encode', upstream_task_ids: ['greet'],
      python: { callable: 'json:dumps',
        kwargs: { fields: { obj: { listValue: { values: [{ numberValue: 1 }] } } } } } },
    { task_id: 'finish', upstream_task_ids: ['greet', 'encode'], trigger_rule: 'all_done',
      command: { command: 'echo finished' } },
  ],
};

async function main() {
  const v1 = load();
  const insecure = grpc.credentials.createInsecure();
  const specs = new v1.DagSpecService(SERVER, insecure);
  const runs = new v1.DagRunService(SERVER, insecure);
  const tis = new v1.TaskInstanceService(SERVER, insecure);

  const submitted = await unary(specs, 'SubmitDagSpec', { spec: SPEC });
  const triggered = await unary(runs, 'TriggerDagRun', { dag_id: DAG_ID });
  const runId = triggered.dag_run.run_id;

  // The log of greet's first try, streamed until the try ends (it waits for the log to
  // begin, so following right after the trigger misses nothing).
  const chunks = [];
  await collect(tis.FollowTaskLog({ key: { dag_id: DAG_ID, run_id: runId, task_id: 'greet',
    map_index: -1, try_number: 1 } }, meta(), deadline()),
  (item) => chunks.push(Buffer.from(item.content)));
  const log = Buffer.concat(chunks).toString('utf8');

  // The first message is the run's current state, then each committed change.
  let finalState = null;
  const watch = runs.WatchStateChanges({ dag_id: DAG_ID, run_id: runId }, meta(), deadline());
  await new Promise((resolve, reject) => {
    watch.on('data', (event) => {
      const change = event.change;
      const isRunEvent = !change.task_instance_key || !change.task_instance_key.task_id;
      if (isRunEvent && ['DAG_RUN_STATE_SUCCESS', 'DAG_RUN_STATE_FAILED']
        .includes(change.dag_run_state)) {
        finalState = change.dag_run_state;
        watch.cancel();
        resolve();
      }
    });
    watch.on('error', (error) => {
      if (error.code === grpc.status.CANCELLED && finalState) resolve(); else reject(error);
    });
    watch.on('end', resolve);
  });

  const listed = await unary(tis, 'ListTaskInstances', { dag_id: DAG_ID, run_id: runId });
  const states = {};
  for (const ti of listed.task_instances) states[ti.key.task_id] = ti.state;
  const summary = {
    dag_id: DAG_ID, version: submitted.version.version, created: submitted.created,
    run_id: runId, state: finalState, states, log,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return finalState === 'DAG_RUN_STATE_SUCCESS' ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`node client failed: ${error.code !== undefined ? `${error.code} ` : ''}`
    + `${error.details || error.message}\n`);
  process.exit(1);
});
