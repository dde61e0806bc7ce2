/**
 * Starting and stopping the two servers of the end-to-end test: gunicorn with the real service
 * and `wrangler dev` in local-origin mode. Both listen on 127.0.0.1 only, on free ports, and
 * each runs in its own process group so stopping it ends its children (workerd) too.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

export interface Server {
  process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Server {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  // A command that cannot start (e.g. no .venv yet: run `make setup`) reports here, not by exiting.
  child.on("error", (error) => (output += `could not start ${command}: ${error.message}\n`));
  return { process: child, output: () => output };
}

/** Polls `url` until it answers at all, or fails after `attempts` tries (with the server's output). */
export async function waitUntilAnswering(server: Server, url: string, attempts = 240, init?: RequestInit): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { exitCode, signalCode, pid } = server.process;
    if (exitCode !== null || signalCode !== null || pid === undefined) {
      throw new Error(`server exited before answering ${url}:\n${server.output()}`);
    }
    try {
      await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`no answer from ${url}:\n${server.output()}`);
}

/** Ends the server's whole process group, SIGKILL if SIGTERM was not enough. */
export async function stop(server: Server | undefined): Promise<void> {
  const child = server?.process;
  if (child === undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = once(child, "exit");
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}
