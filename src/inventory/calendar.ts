/**
 * What the schema's OnCalendar pattern cannot say: ranges go upwards, a step fits its field, and the dates exist. With
 * these, every schedule kubeha accepts is one systemd accepts and fires (test/etcd-backup.test.ts checks samples with
 * systemd-analyze calendar).
 */

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The numeric fields of a calendar expression with their bounds, in the order the pattern allows them. */
const FIELDS = {
  month: { min: 1, max: 12 },
  day: { min: 1, max: 31 },
  hour: { min: 0, max: 23 },
  minute: { min: 0, max: 59 },
  second: { min: 0, max: 59 },
} as const;

type Field = keyof typeof FIELDS;

function fieldProblems(field: Field, list: string): string[] {
  const { min, max } = FIELDS[field];
  const items = list.split(',');
  if (items.length > 1 && items.includes('*')) return [`${field} "${list}" lists "*" with other values`];
  return items.flatMap((item) => {
    const m = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return [`${field} "${item}" is not a value, a range a..b or a step a/n`];
    const [, start, stop, step] = m;
    if (start === '*') return [];
    const problems: string[] = [];
    if (stop !== undefined && Number(stop) < Number(start)) problems.push(`${field} range "${item}" goes downwards`);
    // Seconds may have fractions, and systemd 252 refuses an empty second range such as 19..19.
    if (field === 'second' && stop !== undefined && Number(stop) === Number(start)) problems.push(`second range "${item}" is empty: write ${start}`);
    // Measured with systemd 252: a/n needs a + n within the field; a..b/n takes any n up to the field's span.
    if (step !== undefined && stop === undefined && Number(start) + Number(step) > max) problems.push(`${field} step "${item}" goes past ${max}`);
    if (step !== undefined && stop !== undefined && Number(step) > max - min) problems.push(`${field} step "${item}" is larger than ${max - min}`);
    return problems;
  });
}

function weekdayProblems(list: string): string[] {
  return list.split(',').flatMap((item) => {
    const days = item.split('..');
    if (days.length > 2) return [`weekday range "${item}" has more than two ends`];
    if (days.length === 2 && WEEKDAYS.indexOf(days[1]!) < WEEKDAYS.indexOf(days[0]!)) return [`weekday range "${item}" goes downwards (Mon..Sun)`];
    return [];
  });
}

/** The values a valid field list selects: `*`, a, a..b, a/n (a, a+n, ... up to the field's end), a..b/n. */
function fieldValues(field: Field, list: string): number[] {
  const { min, max } = FIELDS[field];
  return list.split(',').flatMap((item) => {
    const [, start, stop, step] = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(item)!;
    const first = start === '*' ? min : Number(start);
    const last = start === '*' || (stop === undefined && step !== undefined) ? max : Number(stop ?? start);
    const by = Number(step ?? 1);
    return Array.from({ length: Math.floor((last - first) / by) + 1 }, (_, i) => first + i * by);
  });
}

/** The longest month of each number: February has its 29th in leap years. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether a valid MONTH-DAY pair of lists names a day that exists: the 31st of April only, February 30th never come, and
 * systemd's timer would never fire. The weekdays cannot empty it further: every date falls on every weekday over the years.
 */
function neverProblem(month: string, day: string, never: string): string[] {
  const days = fieldValues('day', day);
  const comes = fieldValues('month', month).some((m) => days.some((d) => d <= MONTH_DAYS[m - 1]!));
  return comes ? [] : [`no month of "${month}" has a day of "${day}": the timer would never fire, and ${never}`];
}

/**
 * Problems of a schedule that already matches the schema pattern, as messages; [] when systemd will take it and it
 * fires. `never` says what would then never happen ("no snapshot would ever be taken").
 */
export function calendarProblems(expression: string, never = 'no snapshot would ever be taken'): string[] {
  return syntaxProblems(expression)
    .map((m) => `${m}: systemd would refuse this OnCalendar expression`)
    .concat(datesProblems(expression, never));
}

/** The MONTH-DAY part's problem when its dates never come (none when the expression has no such part or is refused anyway). */
function datesProblems(expression: string, never: string): string[] {
  const date = expression.split(' ').find((token) => !/^[A-Z]/.test(token) && token.includes('-'));
  if (!date || syntaxProblems(expression).length) return [];
  const [, month, day] = date.split('-');
  return neverProblem(month!, day!, never);
}

/** What systemd would refuse in an expression that matches the schema pattern. */
function syntaxProblems(expression: string): string[] {
  if (/^[a-z]+$/.test(expression)) return [];
  return expression.split(' ').flatMap((token) => {
    if (/^[A-Z]/.test(token)) return weekdayProblems(token);
    if (token.includes('-')) {
      const [, month, day] = token.split('-');
      return [...fieldProblems('month', month!), ...fieldProblems('day', day!)];
    }
    const [hour, minute, second] = token.split(':');
    return [...fieldProblems('hour', hour!), ...fieldProblems('minute', minute!), ...(second === undefined ? [] : fieldProblems('second', second))];
  });
}
