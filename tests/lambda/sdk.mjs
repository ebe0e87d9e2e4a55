// sdk.mjs — the AWS SDK for JavaScript v3 (@aws-sdk/client-lambda, as
// people install it from npm) against a real hearthd and real containers,
// unchanged but for `endpoint`.  Run by tests/integration/lambda-sdk.sh,
// which starts hearthd with the key pair below and makes the zips; prints
// TAP test points numbered from TAP_START + 1 and leaves "count failed" in
// the file TAP_STATE.
//
// Environment: HEARTH_URL, KEY, SECRET, ZIPS (a folder of zips), TAP_START,
// TAP_STATE.
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { readFileSync, writeFileSync } from 'node:fs';

const { HEARTH_URL, KEY, SECRET, ZIPS } = process.env;
let n = Number(process.env.TAP_START || 0);
let failed = 0;

function ok(cond, desc, ...diag) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? '' : 'not '}ok ${n} - ${desc.replace(/#/g, '\\#')}`);
  if (!cond) for (const d of diag) console.log(`# ${String(d).split('\n').join('\n# ')}`);
  return cond;
}
const is = (got, want, desc) =>
  ok(got === want, desc, `got:  ${JSON.stringify(got)}`, `want: ${JSON.stringify(want)}`);
const like = (got, re, desc) => ok(re.test(String(got)), desc, `got: ${JSON.stringify(got)}`, `want it to match ${re}`);

// What an SDK call threw, or null.
async function fails(p) {
  try {
    await p;
    return null;
  } catch (e) {
    return e;
  }
}

const client = (opts = {}) =>
  new LambdaClient({
    endpoint: HEARTH_URL,
    region: 'us-east-1',
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    ...opts,
  });
const lambda = client();
// For what must not be retried (a throttle, an error the SDK would try
// again): one attempt.
const once = client({ maxAttempts: 1 });

const zip = (name) => readFileSync(`${ZIPS}/${name}.zip`);
const text = (payload) => new TextDecoder().decode(payload);
const json = (payload) => JSON.parse(text(payload));
const tail = (out) => Buffer.from(out.LogResult || '', 'base64').toString();
const ROLE = 'arn:aws:iam::000000000000:role/hearth';
const REPORT =
  /^REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: (\d+) MB\tMax Memory Used: \d+ MB\t/m;

async function create(name, runtime, handler, zipName, more = {}) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: runtime,
      Handler: handler,
      Role: ROLE,
      Code: { ZipFile: zip(zipName) },
      ...more,
    }),
  );
}

// A native call: /functions/ takes no signature.
async function native(method, path, body) {
  const r = await fetch(`${HEARTH_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

async function main() {
  // ---- create from a zip and invoke: Python ---------------------------------------
  const py = await create('sdk-py', 'python3.12', 'main.handler', 'py', {
    Timeout: 2,
    Environment: { Variables: { GREETING: 'hello' } },
    Description: 'made by the SDK',
  });
  is(py.$metadata.httpStatusCode, 201, 'CreateFunction (python3.12, Code.ZipFile) answers 201');
  is(py.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-py', 'its FunctionArn');
  is(py.State, 'Active', 'State Active');
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'sdk-py' });
  ok(true, 'waitUntilFunctionActiveV2 returns');

  let out = await lambda.send(
    new InvokeCommand({ FunctionName: 'sdk-py', Payload: JSON.stringify({ name: 'Hearth' }), LogType: 'Tail' }),
  );
  is(out.StatusCode, 200, 'Invoke (RequestResponse): StatusCode 200');
  is(out.ExecutedVersion, '$LATEST', 'ExecutedVersion $LATEST');
  is(out.FunctionError, undefined, 'no FunctionError');
  is(JSON.stringify(json(out.Payload)), '{"hello":"Hearth","greeting":"hello"}', 'the payload is the result, the environment set');
  let logs = tail(out);
  like(logs, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m, 'the tail starts with START RequestId ... Version: $LATEST');
  like(logs, /^greeting Hearth$/m, 'it holds what the function printed');
  like(logs, /^END RequestId: [0-9a-f-]{36}$/m, 'END RequestId');
  const rep = REPORT.exec(logs);
  ok(rep, 'REPORT RequestId, Duration, Billed Duration, Memory Size, Max Memory Used as Lambda writes them', logs);
  is(rep && rep[2], '128', 'Memory Size is the function\'s');
  is(rep && rep[1], out.$metadata.requestId, 'the REPORT\'s RequestId is x-amzn-RequestId');

  // A cold start (no container kept warm) reports its Init Duration.
  const nat = await native('PUT', '/functions/sdk-py', { min_warm: 0 });
  is(nat.status, 200, 'the same function, changed over /functions/ (min_warm 0)');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"name":"cold"}', LogType: 'Tail' }));
  like(tail(out), /\tInit Duration: \d+\.\d\d ms\t/, 'a cold or stem start: REPORT has Init Duration');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"name":"warm"}', LogType: 'Tail' }));
  ok(!/Init Duration/.test(tail(out)), 'a warm one has none');
  const rec = await native('GET', `/invocations/${out.$metadata.requestId}`);
  ok(rec.status === 200 && REPORT.test(rec.body.logs) && /^START RequestId/.test(rec.body.logs),
    'the invocation record keeps the same lines', JSON.stringify(rec.body));
  const env = await native('POST', '/functions/sdk-py/execute', { name: 'native' });
  ok(env.status === 200 && env.body.logs === 'greeting native\n',
    'the execute envelope\'s logs stay the function\'s own output', JSON.stringify(env.body));
  const envRec = await native('GET', `/invocations/${env.body.id}`);
  ok(/^START RequestId: /.test(envRec.body.logs) && REPORT.test(envRec.body.logs),
    'while its record has Lambda\'s lines too', JSON.stringify(envRec.body));

  // ---- create from a zip and invoke: Node ------------------------------------------
  const js = await create('sdk-js', 'nodejs20.x', 'index.handler', 'js');
  is(js.Runtime, 'nodejs20.x', 'CreateFunction (nodejs20.x): Runtime kept as given');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-js', Payload: JSON.stringify({ n: 41 }), LogType: 'Tail' }));
  is(JSON.stringify(json(out.Payload)), '{"n":42}', 'Invoke a Node function');
  like(tail(out), /node says 41/, 'its console.log in the tail');
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:sdk-js';
  out = await lambda.send(new InvokeCommand({ FunctionName: arn, Payload: '{"n":1}' }));
  is(JSON.stringify(json(out.Payload)), '{"n":2}', 'Invoke by ARN');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-js' }));
  is(JSON.stringify(json(out.Payload)), '{"n":1}', 'Invoke without a payload: an empty event');

  // ---- errors of the function --------------------------------------------------------
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"raise":"boom"}' }));
  let p = json(out.Payload);
  is(out.FunctionError, 'Unhandled', 'a Python exception: FunctionError (Lambda says Unhandled)');
  is(out.StatusCode, 200, '  with StatusCode 200');
  is(p.errorType, 'ValueError', '  errorType is the exception\'s class');
  is(p.errorMessage, 'boom', '  errorMessage its message');
  ok(Array.isArray(p.stackTrace) && p.stackTrace.some((l) => l.includes('main.py')), '  stackTrace the frames', JSON.stringify(p));
  is(p.requestId, out.$metadata.requestId, '  requestId the call\'s');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-js', Payload: '{"throw":"bad"}' }));
  p = json(out.Payload);
  is(out.FunctionError, 'Unhandled', 'a Node exception: FunctionError');
  ok(p.errorType === 'TypeError' && p.errorMessage === 'bad' && Array.isArray(p.stackTrace), '  errorType, errorMessage, stackTrace', JSON.stringify(p));
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"crash":1}', LogType: 'Tail' }));
  p = json(out.Payload);
  is(out.FunctionError, 'Unhandled', 'a runtime that dies (os._exit): FunctionError Unhandled');
  is(p.errorType, 'Runtime.ExitError', '  errorType Runtime.ExitError');
  like(p.errorMessage, /^RequestId: [0-9a-f-]{36} Error: /, '  errorMessage as Lambda words it');
  like(tail(out), /\tStatus: error\tError Type: Runtime.ExitError\t/, '  REPORT says Status: error');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-js', Payload: '{"exit":1}' }));
  is(json(out.Payload).errorType, 'Runtime.ExitError', 'a Node runtime that dies (process.exit)');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"sleep":5}', LogType: 'Tail' }));
  p = json(out.Payload);
  is(out.FunctionError, 'Unhandled', 'a timeout: FunctionError Unhandled, StatusCode ' + out.StatusCode);
  is(p.errorType, 'Sandbox.Timedout', '  errorType Sandbox.Timedout');
  like(p.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 2\.00 seconds$/, '  Task timed out after 2.00 seconds');
  like(tail(out), /Task timed out after 2\.00 seconds\n[\s\S]*\tStatus: timeout\t/, '  the tail says so, and REPORT has Status: timeout');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"name":"after"}' }));
  is(json(out.Payload).hello, 'after', 'the next call is served (the container was replaced)');

  // ---- Event and DryRun ------------------------------------------------------------------
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', InvocationType: 'DryRun' }));
  is(out.StatusCode, 204, 'DryRun: StatusCode 204');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', InvocationType: 'Event', Payload: '{"name":"later"}' }));
  is(out.StatusCode, 202, 'Event: StatusCode 202');
  let call = null;
  for (let i = 0; i < 300; i++) {
    call = (await native('GET', `/invocations/${out.$metadata.requestId}`)).body;
    if (call && call.status === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  ok(call && call.async && call.status === 'succeeded' && call.attempts.length === 1,
    'the Event call ran from the durable queue: its x-amzn-RequestId is the call', JSON.stringify(call));
  ok(call && /^greeting later$/m.test(call.attempts[0].logs) && REPORT.test(call.attempts[0].logs),
    'its attempt\'s logs carry the function\'s output and Lambda\'s lines', JSON.stringify(call && call.attempts));

  // ---- list (with paging), get, update, delete -------------------------------------------
  for (const name of ['sdk-a', 'sdk-b', 'sdk-c']) await create(name, 'python3.11', 'main.handler', 'py');
  const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 2 }));
  ok(page.Functions.length === 2 && page.NextMarker, 'ListFunctions MaxItems 2: two and a NextMarker', JSON.stringify(page));
  const page2 = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: page.NextMarker }));
  is(page2.Functions[0].FunctionName, 'sdk-a', 'the Marker gives the next page');
  const names = [];
  for await (const pg of paginateListFunctions({ client: lambda, pageSize: 2 }, {})) names.push(...pg.Functions.map((f) => f.FunctionName));
  is(names.join(','), 'sdk-py,sdk-js,sdk-a,sdk-b,sdk-c', 'paginateListFunctions walks every page');

  const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-py' }));
  ok(got.Configuration.FunctionName === 'sdk-py' && got.Configuration.Runtime === 'python3.12' && got.Code.RepositoryType === 'S3',
    'GetFunction: Configuration and Code', JSON.stringify(got));
  const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-py' }));
  ok(cfg.Description === 'made by the SDK' && cfg.Timeout === 2 && cfg.Environment.Variables.GREETING === 'hello',
    'GetFunctionConfiguration', JSON.stringify(cfg));

  const up = await lambda.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: 'sdk-py',
      Environment: { Variables: { GREETING: 'bonjour' } },
      MemorySize: 256,
      RevisionId: cfg.RevisionId,
    }),
  );
  ok(up.MemorySize === 256 && up.RevisionId !== cfg.RevisionId, 'UpdateFunctionConfiguration (with the RevisionId it had)', JSON.stringify(up));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'sdk-py' });
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-py', Payload: '{"name":"x"}', LogType: 'Tail' }));
  ok(json(out.Payload).greeting === 'bonjour' && /Memory Size: 256 MB/.test(tail(out)), 'the next call has the new settings', tail(out));
  const stale = await fails(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-py', Timeout: 9, RevisionId: cfg.RevisionId })));
  is(stale?.name, 'PreconditionFailedException', 'an old RevisionId: PreconditionFailedException');
  const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-js', ZipFile: zip('js2') }));
  ok(code.CodeSha256 !== js.CodeSha256, 'UpdateFunctionCode: a new CodeSha256');
  out = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-js', Payload: '{"n":1}' }));
  is(JSON.stringify(json(out.Payload)), '{"v":2}', 'the next call runs the new code');

  const del = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-c' }));
  is(del.$metadata.httpStatusCode, 204, 'DeleteFunction: 204');
  let e = await fails(lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-c' })));
  ok(e instanceof ResourceNotFoundException, 'the deleted function is not found', e && `${e.name}: ${e.message}`);

  // ---- not found, conflict, too large, throttled ------------------------------------------
  e = await fails(lambda.send(new InvokeCommand({ FunctionName: 'no-such-fn', Payload: '{}' })));
  ok(e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404, 'Invoke of no function: ResourceNotFoundException 404', e && `${e.name}: ${e.message}`);
  is(e?.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-fn', '  with Lambda\'s message');
  is(e?.Type, 'User', '  Type User');
  e = await fails(create('sdk-a', 'python3.12', 'main.handler', 'py'));
  ok(e instanceof ResourceConflictException, 'CreateFunction of a name taken: ResourceConflictException', e && `${e.name}: ${e.message}`);
  e = await fails(lambda.send(new InvokeCommand({ FunctionName: 'sdk-a', Payload: JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024) }) })));
  ok(e?.name === 'RequestTooLargeException' && e.$metadata.httpStatusCode === 413, 'a 6 MB payload: RequestTooLargeException 413', e && `${e.name}: ${e.message}`);
  e = await fails(create('sdk-bad', 'java21', 'a.b', 'py'));
  ok(e?.name === 'InvalidParameterValueException', 'a runtime Hearth does not run: InvalidParameterValueException', e && `${e.name}: ${e.message}`);
  // One container at most and a queue of one (hearthd --queue-size 1):
  // a third call while one runs and one waits is throttled.
  const b = await native('PUT', '/functions/sdk-b', { max_concurrency: 1, min_warm: 1, timeout: 10 });
  for (let i = 0; i < 300; i++) {
    const pool = await native('GET', '/pool');
    if (pool.body.containers.some((c) => c.function_id === b.body.id && c.revision === b.body.revision && c.state === 'idle')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const slow = () => once.send(new InvokeCommand({ FunctionName: 'sdk-b', Payload: '{"sleep":2}' }));
  const first = slow();
  await new Promise((r) => setTimeout(r, 300));
  const second = slow();
  await new Promise((r) => setTimeout(r, 100));
  e = await fails(slow());
  ok(e?.name === 'TooManyRequestsException' && e.$metadata.httpStatusCode === 429 && e.Reason,
    'beyond the queue: TooManyRequestsException 429, with a Reason', e && `${e.name}: ${e.message}`);
  await Promise.allSettled([first, second]);

  // ---- signatures ---------------------------------------------------------------------------
  e = await fails(client({ credentials: { accessKeyId: KEY, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 }).send(new ListFunctionsCommand({})));
  ok(e?.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403, 'signed with a wrong secret: InvalidSignatureException 403', e && `${e.name}: ${e.message}`);
  e = await fails(client({ credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: SECRET }, maxAttempts: 1 }).send(new ListFunctionsCommand({})));
  ok(e?.name === 'UnrecognizedClientException' && e.$metadata.httpStatusCode === 403, 'signed with an unknown key: UnrecognizedClientException 403', e && `${e.name}: ${e.message}`);
  e = await fails(client({ region: 'eu-west-1', maxAttempts: 1 }).send(new ListFunctionsCommand({})));
  ok(e?.name === 'InvalidSignatureException' && /valid region/.test(e.message), 'signed for another region: InvalidSignatureException', e && `${e.name}: ${e.message}`);
  // The SDK corrects its clock from the Date of a "Signature expired"
  // answer and tries again, as it does against AWS.
  const skewed = client({ systemClockOffset: -20 * 60 * 1000 });
  const list = await skewed.send(new ListFunctionsCommand({ MaxItems: 1 }));
  ok(list.Functions.length === 1, 'a client 20 minutes slow corrects its clock from the Date hearthd answers with');

  for (const name of ['sdk-py', 'sdk-js', 'sdk-a', 'sdk-b']) await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  const left = await lambda.send(new ListFunctionsCommand({}));
  is(left.Functions.length, 0, 'every function deleted');
}

try {
  await main();
} catch (e) {
  ok(false, `the script ran to its end`, e.stack || e);
}
writeFileSync(process.env.TAP_STATE, `${n} ${failed}\n`);
