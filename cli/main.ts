/** The `topoflow` command line. */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { validatePipelinesFile } from '../config/load.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, DEFAULT_TASK_QUEUE, TRAIN_TASK_QUEUE } from '../protocol/protocol.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { stageKinds } from './kinds.js';
import { globalsFrom, UsageError, type Globals } from './globals.js';
import { abortCommand, listCommand, resumeCommand, retryCommand, runCommand, skipCommand, statusCommand } from './runs.js';
import { verifyCommand } from './verify.js';
import { scheduleCreate, scheduleDelete, scheduleList } from './schedules.js';
import { logsFolder, startStack } from './stack.js';
import { clusterFromEnv } from '../infra/temporalTarget.js';


const collect = (value: string, previous: string[]) => [...previous, value];

function program(): Command {
  const p = new Command('topoflow')
    .description('Declarative, durable ML pipelines on Temporal (HEP particle topology classifier).')
    .option('-f, --file <path>', 'pipelines.yaml (env TOPOFLOW_PIPELINES)', undefined)
    .option('--data <dir>', 'data folder: local storage, Temporal state, logs (env TOPOFLOW_DATA)', undefined)
    .showHelpAfterError()
    // Commander throws instead of exiting (subcommands inherit it), so that main() gives bad command lines exit 2.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true });
  const g = (cmd: Command, quiet = false): Globals => globalsFrom(cmd.optsWithGlobals(), quiet);

  p.command('validate [file]')
    .description('check pipelines.yaml; exit 0 when valid, 2 otherwise')
    .action(async (file: string | undefined, _o, cmd: Command) => {
      const path = file ?? g(cmd).file;
      const res = validatePipelinesFile(path, configVocabulary(await stageKinds()));
      if (!res.ok) {
        process.stderr.write(`${res.text}\n`); // already the report, source lines and carets included
        return done(2);
      }
      const names = Object.entries(res.file.pipelines).map(([n, s]) => `${n} (${Object.keys(s.stages).length} stages)`);
      process.stdout.write(`${path}: OK — pipelines: ${names.join(', ')}\n`);
      return done(0);
    });

  p.command('run <pipeline>')
    .description('run a pipeline: live progress, then a summary (exit 0 ok, 1 failed, 2 bad input, 3 held)')
    .option('--set <key=value>', 'override a pipeline param (repeatable)', collect, [])
    .option('--force <stage>', 're-run this stage and everything downstream (repeatable)', collect, [])
    .option('--json', 'print one final JSON object on stdout')
    .option('--id <runId>', 'workflow id for the run (default: <pipeline>-<time>-<random>)')
    .action(async (pipeline: string, o: { set: string[]; force: string[]; json?: boolean; id?: string }, cmd: Command) =>
      done(await runCommand(g(cmd), pipeline, { set: o.set, force: o.force, json: !!o.json, ...(o.id ? { id: o.id } : {}) })));

  p.command('status [runId]')
    .description('stage table of a run (default: the latest)')
    .option('--json', 'JSON output')
    .option('--verbose', 'full reasons, counts and manifest URIs (the summary otherwise fits 100 columns)')
    .action(async (runId: string | undefined, o: { json?: boolean; verbose?: boolean }, cmd: Command) => done(await statusCommand(g(cmd), runId, !!o.json, !!o.verbose)));

  p.command('verify [target]')
    .description('re-hash committed outputs against their manifests: all, a stage kind, a cache-key prefix or a run id (exit 1 if any is damaged)')
    .option('--json', 'JSON output')
    .action(async (target: string | undefined, o: { json?: boolean }, cmd: Command) => done(await verifyCommand(g(cmd), target, !!o.json)));

  p.command('list')
    .description('recent runs')
    .option('--limit <n>', 'how many', (v) => Number(v), 20)
    .option('--json', 'JSON output')
    .action(async (o: { limit: number; json?: boolean }, cmd: Command) => done(await listCommand(g(cmd), { limit: o.limit, json: !!o.json })));

  p.command('resume <runId>')
    .description('continue a held, failed or terminated run from its last completed stage')
    .option('--json', 'print one final JSON object on stdout')
    .action(async (runId: string, o: { json?: boolean }, cmd: Command) => done(await resumeCommand(g(cmd), runId, !!o.json)));

  p.command('retry <runId>')
    .description('retry the held stage(s) of a run, optionally with new params')
    .option('--stage <id>', 'only this held stage')
    .option('--set <key=value>', 'override a pipeline param (repeatable)', collect, [])
    .option('--json', 'print one final JSON object on stdout')
    .action(async (runId: string, o: { stage?: string; set: string[]; json?: boolean }, cmd: Command) =>
      done(await retryCommand(g(cmd), runId, { set: o.set, json: !!o.json, ...(o.stage ? { stage: o.stage } : {}) })));

  p.command('skip <runId>')
    .description('skip the held stage(s) of a run (their downstream stages are skipped too)')
    .option('--stage <id>', 'only this held stage')
    .option('--json', 'print one final JSON object on stdout')
    .action(async (runId: string, o: { stage?: string; json?: boolean }, cmd: Command) =>
      done(await skipCommand(g(cmd), runId, { json: !!o.json, ...(o.stage ? { stage: o.stage } : {}) })));

  p.command('abort <runId>')
    .description('abort a run: running stages are cancelled, the run ends as failed')
    .option('--reason <text>', 'recorded in the run')
    .option('--json', 'print one final JSON object on stdout')
    .action(async (runId: string, o: { reason?: string; json?: boolean }, cmd: Command) =>
      done(await abortCommand(g(cmd), runId, { json: !!o.json, ...(o.reason ? { reason: o.reason } : {}) })));

  const schedule = p.command('schedule').description('periodic runs (Temporal Schedules)');
  schedule.command('create <pipeline>')
    .description('run a pipeline periodically')
    .addOption(new Option('--every <duration>', 'interval, e.g. 30s, 15m, 6h, 1d'))
    .addOption(new Option('--cron <expr>', 'cron expression, e.g. "0 3 * * *"'))
    .option('--set <key=value>', 'override a pipeline param (repeatable)', collect, [])
    .option('--id <scheduleId>', 'schedule id (default: <pipeline>-schedule)')
    .option('--catchup-window <duration>', 'runs missed while Temporal was down are made up only if this recent (default 10m)')
    .action(async (pipeline: string, o: { every?: string; cron?: string; set: string[]; id?: string; catchupWindow?: string }, cmd: Command) =>
      done(await scheduleCreate(g(cmd), pipeline, o)));
  schedule.command('list')
    .description('list schedules')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }, cmd: Command) => done(await scheduleList(g(cmd), !!o.json)));
  schedule.command('delete <scheduleId>')
    .description('delete a schedule')
    .action(async (id: string, _o, cmd: Command) => done(await scheduleDelete(g(cmd), id)));

  p.command('generate')
    .description('write synthetic Delphes ROOT files (QCD, ttbar, W+jets) to a local folder')
    .requiredOption('--out <dir>', 'output folder (files go to <dir>/<sample>/<sample>_NNN.root)')
    .option('--events-per-sample <n>', 'events per sample', (v) => Number(v), 10000)
    .option('--events-per-file <n>', 'events per file', (v) => Number(v), 10000)
    .option('--samples <list>', 'comma-separated: qcd, ttbar, wjets', 'qcd,ttbar,wjets')
    .option('--seed <n>', 'random seed (same seed, same bytes)', (v) => Number(v), 42)
    .action(async (o: { out: string; eventsPerSample: number; eventsPerFile: number; samples: string; seed: number }, cmd: Command) => {
      // Loaded on demand, like the worker: only this command needs the generator.
      const { generateCommand } = await import('./generate.js');
      return done(generateCommand(g(cmd), o));
    });

  p.command('up')
    .description('start the embedded Temporal dev server (with Web UI) and a worker; Ctrl-C stops them')
    .action(async (_o, cmd: Command) => {
      if (clusterFromEnv()) throw new UsageError('TEMPORAL_ADDRESS is set: topoflow uses that cluster and starts nothing; run `topoflow worker` there instead');
      const globals = g(cmd);
      const stack = await startStack({ dataDir: globals.dataDir, specFile: globals.file, log: globals.log });
      process.stdout.write(`Temporal: ${stack.target.connection.address}\nWeb UI:   ${stack.uiUrl ?? '(headless)'}\nworkers:  polling ${DEFAULT_TASK_QUEUE}, ${TRAIN_TASK_QUEUE} (logs in ${logsFolder(globals.dataDir)}/)\nCtrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      globals.log('stopping…');
      await stack.close();
      return done(0);
    });

  p.command('worker')
    .description('run a worker process against TEMPORAL_ADDRESS (any number, on any machines)')
    .option('--queues <list>', 'task queues to poll, comma-separated', `${DEFAULT_TASK_QUEUE},${TRAIN_TASK_QUEUE}`)
    .option('--slots <n>', 'concurrent activities per queue (default 2; 1 on the train queue: TensorFlow.js trains one model per process)', (v) => Number(v))
    .option('--progress-interval <ms>', 'how often a running stage\'s progress reaches Temporal (heartbeat details), ms', (v) => Number(v), DEFAULT_PROGRESS_INTERVAL_MS)
    .action(async (o: { queues: string; slots?: number; progressInterval: number }, cmd: Command) => {
      const target = clusterFromEnv();
      if (!target) throw new UsageError('worker: set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) to the Temporal service; `topoflow up` starts a local one with its own worker');
      // Loaded on demand: the worker SDK is heavy and other commands never need it.
      const { runWorkerProcess } = await import('../workers/worker.js');
      if (!Number.isInteger(o.progressInterval) || o.progressInterval < 1) throw new UsageError(`worker: --progress-interval must be a whole number of milliseconds (got ${o.progressInterval})`);
      await runWorkerProcess({ target, queues: o.queues.split(',').map((q) => q.trim()).filter(Boolean), specFile: g(cmd).file, ...(o.slots !== undefined ? { activitySlots: o.slots } : {}), progressIntervalMs: o.progressInterval });
      return done(0);
    });
  return p;
}

let exitCode = 0;
const done = (code: number) => void (exitCode = code);

export async function main(argv = process.argv): Promise<number> {
  try {
    await program().parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExit(err);
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message.split('\n').map((line) => `error: ${line}`).join('\n')}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${describeError(err)}\n`);
    if (process.env.TOPOFLOW_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

/**
 * Commander has already printed its `error: …` line (and the help). --help and
 * --version exit as commander says (0); a bad command line (unknown command or
 * option, missing argument, no command at all: help printed as an error) is bad input: 2.
 */
function commanderExit(err: CommanderError): number {
  const asCommanderSays = ['commander.helpDisplayed', 'commander.version'];
  return asCommanderSays.includes(err.code) ? err.exitCode : 2;
}

/** Temporal wraps the useful message in causes ("Workflow Update failed" → validator message). */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) parts.push(e.message);
  return parts.length ? parts.join(': ') : String(err);
}
