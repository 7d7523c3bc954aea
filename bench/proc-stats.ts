/**
 * What the kernel says about a server process (and, in cluster mode, its worker children):
 * resident memory now and at its peak, and CPU seconds used. Linux /proc only.
 */
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Memory and CPU of one process tree at one instant. */
export interface ProcStats {
  /** Resident set size now, summed over the tree, bytes. */
  readonly rssBytes: number;
  /** Peak resident set size (VmHWM), summed over the tree, bytes. */
  readonly peakRssBytes: number;
  /** User + system CPU time, summed over the tree, seconds. */
  readonly cpuSeconds: number;
  /** The system (kernel) part of cpuSeconds. */
  readonly systemSeconds: number;
  /** How many processes were counted. */
  readonly processes: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

/** [user, system] clock ticks of one process. */
function cpuTicks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(rest[11]), Number(rest[12])];
}

/** The pid and every descendant of it that is alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Gone between readdir and read.
    }
  }
  const tree: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const next = todo.pop()!;
    tree.push(next);
    todo.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Reads memory and CPU of the process tree rooted at pid; zeros for a process that is gone. */
export function procStats(pid: number): ProcStats {
  let rss = 0;
  let peak = 0;
  let ticks = 0;
  let systemTicks = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    try {
      rss += statusKb(p, "VmRSS") * 1024;
      peak += statusKb(p, "VmHWM") * 1024;
      const [user, system] = cpuTicks(p);
      ticks += user + system;
      systemTicks += system;
      processes++;
    } catch {
      // Exited meanwhile.
    }
  }
  return { rssBytes: rss, peakRssBytes: peak, cpuSeconds: ticks / clockTicks(), systemSeconds: systemTicks / clockTicks(), processes };
}

/** The 1-minute load average of the machine. */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}
