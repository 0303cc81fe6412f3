/**
 * `taskpool types <endpoint>` / `taskpool types --module FILE`: the TypeScript types of an
 * interface (`dts`), a module that also validates at run time (`ts`), or its JSON
 * description (`json`), from a server's hello or from a local module; `--check FILE` says
 * whether a file generated before is still the interface's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Interface,
  type InterfaceDescription,
  interfaceHash,
  isImplementation,
  isInterface,
} from '@taskpool/protocol';
import { reach, timeoutOption, waitOption } from '../reach.js';
import {
  CONNECT_FLAGS,
  CONNECT_OPTIONS,
  type ConnectSecurity,
  connectSecurity,
  withheldInterface,
} from '../security.js';
import { generateTypes, recordedHash, TYPES_FORMATS, type TypesFormat } from '../types/generate.js';
import { isInterfaceName, toTypeName } from '../types/names.js';
import { parseCommand, UsageError } from '../usage.js';

/** What the command cannot do, said in one line: exit code 1. */
class TypesFailure extends Error {
  override name = 'TypesFailure';
}

/** What a server or a module without a zod interface is told. */
const NEEDS_DEFINE_INTERFACE =
  'types come from an interface made with defineInterface (serve `defineWorker({ interface: iface.implement(handlers) })`)';

/**
 * Runs `taskpool types` with the words after the command name; resolves to the exit code
 * (0 done or up to date, 1 failure or out of date). Bad usage throws a UsageError (2).
 */
export async function runTypes(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(
    args,
    ['name', 'out', 'format', 'check', 'wait', 'module', 'export', ...CONNECT_OPTIONS],
    CONNECT_FLAGS,
  );
  const [endpoint, ...rest] = positionals;
  const module = values.module;
  if (rest.length > 0) throw new UsageError('types takes one endpoint');
  if (endpoint === undefined && module === undefined) {
    throw new UsageError('types takes an endpoint, or --module FILE');
  }
  if (endpoint !== undefined && module !== undefined) {
    throw new UsageError('types takes an endpoint or --module FILE, not both');
  }
  if (values.export !== undefined && module === undefined) {
    throw new UsageError('--export names an export of the --module FILE');
  }
  if (module !== undefined) {
    const connecting = (['wait', ...CONNECT_OPTIONS, ...CONNECT_FLAGS] as const).filter(
      (key) => values[key] !== undefined,
    );
    if (connecting.length > 0) {
      throw new UsageError(
        `${connecting.map((key) => `--${key}`).join(', ')} ${connecting.length > 1 ? 'are' : 'is'} for an endpoint, not --module`,
      );
    }
  }
  const format = values.format ?? 'dts';
  if (!(TYPES_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `--format: expected dts, ts or json, received ${JSON.stringify(values.format)}`,
    );
  }
  if (values.check !== undefined) {
    const extra = (['out', 'format', 'name'] as const).filter((key) => values[key] !== undefined);
    if (extra.length > 0) {
      throw new UsageError(
        `--check compares hashes and writes nothing: it takes no ${extra.map((key) => `--${key}`).join(', ')}`,
      );
    }
  }
  if (values.name !== undefined) {
    if (format === 'json') {
      throw new UsageError(
        '--name names the generated TypeScript interface: not for --format json',
      );
    }
    if (!isInterfaceName(values.name)) {
      throw new UsageError(
        `--name: expected a TypeScript identifier that is not a built-in or imported type name, received ${JSON.stringify(values.name)}`,
      );
    }
  }
  const wait = waitOption(values.wait);
  const security = connectSecurity(values);

  try {
    const description =
      module !== undefined
        ? await fromModule(module, values.export)
        : await fromServer(endpoint as string, wait, security);
    const source = module !== undefined ? `the interface in ${module}` : "the server's interface";
    if (values.check !== undefined) return await check(values.check, description.hash, source);
    const name = values.name ?? interfaceNameOf(description.name);
    const { text, warnings } = await generateTypes(description, {
      format: format as TypesFormat,
      name,
    });
    for (const warning of warnings) console.error(`taskpool: warning: ${warning}`);
    if (values.out === undefined) {
      process.stdout.write(text);
      return 0;
    }
    try {
      await writeFile(values.out, text);
    } catch (error) {
      throw new TypesFailure(`cannot write ${values.out}: ${(error as Error).message}`);
    }
    console.log(`taskpool: wrote ${values.out}: ${description.name} (${description.hash})`);
    return 0;
  } catch (error) {
    if (!(error instanceof TypesFailure)) throw error;
    console.error(`taskpool: ${error.message}`);
    return 1;
  }
}

/**
 * The interface description in a server's hello; a server that withholds it from this
 * client (not authenticated, not on its Unix socket) is a failure, as one without it is.
 */
async function fromServer(
  endpoint: string,
  wait: number,
  security: ConnectSecurity,
): Promise<InterfaceDescription> {
  await using server = await reach(endpoint, wait, timeoutOption(undefined), security);
  const withheld = withheldInterface(endpoint, server.checkout.worker);
  if (withheld !== undefined) throw new TypesFailure(withheld);
  const described = server.checkout.worker?.interface ?? null;
  if (described === null) {
    throw new TypesFailure(
      `the server at ${endpoint} has no interface to describe: it serves a plain record of handlers, or one function; ${NEEDS_DEFINE_INTERFACE}`,
    );
  }
  return normalize(described, `the server at ${endpoint}`);
}

/**
 * A description as this version reads it. A server of an earlier version sent only
 * `methods`: its name is then the default one, and its hash is computed here.
 */
function normalize(raw: Record<string, unknown>, where: string): InterfaceDescription {
  const { methods } = raw;
  if (typeof methods !== 'object' || methods === null || Array.isArray(methods)) {
    throw new TypesFailure(`${where} sent an interface description without methods`);
  }
  const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : 'Interface';
  const unhashed = { name, methods: methods as InterfaceDescription['methods'] };
  const hash =
    typeof raw.hash === 'string' && /^sha256:[0-9a-f]{64}$/.test(raw.hash)
      ? (raw.hash as InterfaceDescription['hash'])
      : interfaceHash(unhashed);
  return { ...unhashed, hash };
}

/** `TypeError [ERR_X]: message`, as Node prints an error's first line. */
function headline(error: Error & { code?: unknown }): string {
  const code = typeof error.code === 'string' ? ` [${error.code}]` : '';
  return `${error.name}${code}: ${error.message}`;
}

/**
 * The interface a module exports: an interface (from defineInterface), an implementation
 * (`iface.implement(handlers)`), or a worker definition whose `interface` is one of them.
 * Undefined for anything else; null for a worker definition without a zod interface.
 */
function interfaceOf(value: unknown): Interface | null | undefined {
  if (isInterface(value)) return value;
  if (isImplementation(value)) return value.interface;
  if (typeof value !== 'object' || value === null || !('interface' in value)) return undefined;
  const inner = (value as { interface: unknown }).interface;
  if (isInterface(inner)) return inner;
  if (isImplementation(inner)) return inner.interface;
  return null;
}

/** The description of the interface a local module exports (`default`, or `exportName`). */
async function fromModule(
  module: string,
  exportName: string | undefined,
): Promise<InterfaceDescription> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>;
  } catch (error) {
    const failure = error as Error & { code?: unknown };
    // As `taskpool serve` says it: a .ts module without a loader fails on its extension.
    const hint =
      failure.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/.test(module)
        ? ' (a TypeScript module needs a loader: run taskpool with NODE_OPTIONS="--import tsx", or build the module to JavaScript)'
        : '';
    const stack =
      failure instanceof Error && failure.stack && hint === '' && failure.code === undefined
        ? `\n${failure.stack}`
        : '';
    throw new TypesFailure(`${module} cannot load: ${headline(failure)}${hint}${stack}`);
  }
  const key = exportName ?? 'default';
  if (!Object.hasOwn(loaded, key)) {
    const names = Object.keys(loaded).join(', ') || 'none';
    throw new TypesFailure(
      exportName !== undefined
        ? `${module} has no export ${JSON.stringify(exportName)} (its exports: ${names})`
        : `${module} has no default export (its exports: ${names}): name the one to read with --export`,
    );
  }
  const what =
    exportName !== undefined ? `its export ${JSON.stringify(exportName)}` : 'its default export';
  const iface = interfaceOf(loaded[key]);
  if (iface === null) {
    throw new TypesFailure(
      `${module}: ${what} is a worker whose interface is a plain record of handlers, or one function; ${NEEDS_DEFINE_INTERFACE}`,
    );
  }
  if (iface === undefined) {
    throw new TypesFailure(
      `${module}: ${what} is not an interface made with defineInterface (nor its implementation, nor a worker definition that serves one)`,
    );
  }
  return normalize(iface.describe() as unknown as Record<string, unknown>, module);
}

/** `--check FILE`: 0 when the file records `hash`, 1 (saying both hashes) otherwise. */
async function check(file: string, hash: string, source: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const { code, message } = error as Error & { code?: unknown };
    throw new TypesFailure(
      code === 'ENOENT'
        ? `--check: ${file} does not exist: write it first (taskpool types … --out ${file})`
        : `--check: cannot read ${file}: ${message}`,
    );
  }
  const recorded = recordedHash(text);
  if (recorded === undefined) {
    throw new TypesFailure(
      `--check: ${file} records no interface hash: it was not written by taskpool types, or was edited since`,
    );
  }
  if (recorded !== hash) {
    console.error(
      `taskpool: ${file} is out of date: it was generated from ${recorded}, and ${source} is now ${hash}`,
    );
    return 1;
  }
  console.log(`taskpool: ${file} is up to date (${hash})`);
  return 0;
}

/** The type name of an interface's own name, unless that name is taken (`Promise`, `string`). */
function interfaceNameOf(described: string): string {
  const name = toTypeName(described);
  return isInterfaceName(name) ? name : `${name}Interface`;
}
