import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** Resident set size of a process in bytes (Linux /proc), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of named processes every `intervalMs` and keeps each one's peak since the last reset. */
export class RssSampler {
  private peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly processes: Record<string, number | undefined>,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.processes)) {
      if (pid === undefined) continue;
      const rss = rssOf(pid);
      if (rss !== undefined && rss > (this.peaks.get(name) ?? 0)) this.peaks.set(name, rss);
    }
  }

  /** Peaks since the last reset, in MB. */
  takePeaks(): Record<string, number> {
    this.sample();
    const result = Object.fromEntries([...this.peaks].map(([name, bytes]) => [name, Math.round(bytes / 1024 / 1024)]));
    this.peaks = new Map();
    this.sample();
    return result;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc; clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * This process's heap in use just after each major GC, its peak since the last take: what the work really
 * holds. RSS also counts garbage V8 has not yet collected, which it leaves to grow while memory is plentiful.
 */
export class LiveHeapPeak {
  private peak = 0;
  private readonly observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((entry) => (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!major) return;
    const used = getHeapStatistics().used_heap_size;
    this.peak = Math.max(this.peak, used);
    this.onMajorGc?.(Math.round(used / 1024 / 1024));
  });

  /** `onMajorGc` hears each major GC's figure (MB), to tell which phase of a run holds the memory. */
  constructor(private readonly onMajorGc?: (mb: number) => void) {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The peak since the last take, in MB. */
  take(): number {
    const mb = Math.round(this.peak / 1024 / 1024);
    this.peak = 0;
    return mb;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
