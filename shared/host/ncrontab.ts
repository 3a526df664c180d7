export interface Schedule {
  /** The first occurrence strictly after `after`, in UTC as on Azure by default. */
  next(after: Date): Date;
}

// Six-field NCRONTAB ("sec min hour day month weekday") limited to what the local host needs: seconds,
// minutes and hours may be `*`, `*/N` or a number; day, month and weekday must be `*`.
export function parseSchedule(functionName: string, expression: string): Schedule {
  const unsupported = (): Error =>
    new Error(
      `LocalHost: timer "${functionName}" schedule "${expression}" is not supported locally: use six fields ` +
        `(sec min hour day month weekday) where sec/min/hour are *, */N or a number and day/month/weekday are *`,
    );
  const fields = expression.trim().split(/\s+/);
  const [sec, min, hour, ...rest] = fields;
  if (fields.length !== 6 || sec === undefined || min === undefined || hour === undefined || rest.some((f) => f !== '*')) {
    throw unsupported();
  }
  const field = (text: string, max: number): ((value: number) => boolean) => {
    if (text === '*') return () => true;
    const step = /^\*\/(\d+)$/.exec(text)?.[1];
    if (step !== undefined && Number(step) >= 1 && Number(step) <= max) return (value) => value % Number(step) === 0;
    if (/^\d+$/.test(text) && Number(text) <= max) return (value) => value === Number(text);
    throw unsupported();
  };
  const matchSecond = field(sec, 59);
  const matchMinute = field(min, 59);
  const matchHour = field(hour, 23);
  return {
    next(after) {
      // Every day matches, so an occurrence is always within 24 h: scanning seconds is simple and cheap.
      const candidate = new Date(Math.floor(after.getTime() / 1000) * 1000);
      for (let i = 0; i <= 86_400; i++) {
        candidate.setTime(candidate.getTime() + 1000);
        if (matchSecond(candidate.getUTCSeconds()) && matchMinute(candidate.getUTCMinutes()) && matchHour(candidate.getUTCHours())) {
          return candidate;
        }
      }
      throw unsupported();
    },
  };
}

/** For fireTimer(): a schedule the local host cannot run still fires manually, without a `next` time. */
export function tryNextOccurrence(expression: string): Date | undefined {
  try {
    return parseSchedule('', expression).next(new Date());
  } catch {
    return undefined;
  }
}
