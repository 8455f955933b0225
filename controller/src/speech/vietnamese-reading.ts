/**
 * Spells out numbers, dates, times and units in Vietnamese announcement text before it is synthesised by
 * espeak-ng (voice `vi`), which reads digits poorly. Readings follow a northern announcer: "linh" (not "lẻ"),
 * "nghìn", "tỷ", "ngày mùng một", "tháng tư".
 *
 * Number format: "," is the decimal separator and "." groups thousands. A dot is a thousands separator only when
 * it splits a proper group: 1–3 leading digits (not starting with 0) then one or more groups of exactly 3 digits
 * ("1.500", "1.500.000", "1.500,75"). Any other dot is a decimal point, read "phẩy" like the comma ("3.5").
 */
import { doReadNumber, ReadingConfig } from 'read-vietnamese-number';

// Integers come from read-vietnamese-number (typed, no dependencies, any size, gets mốt/tư/lăm/không trăm right);
// we only choose the northern words.
const NUMBER_CONFIG = Object.assign(new ReadingConfig(), {
  unit: [],
  oddText: 'linh',
  negativeText: 'âm',
  units: [[], ['nghìn'], ['triệu'], ['tỷ']],
});

const INTEGER = /^-?\d+$/;
const GROUPED = /^([-−]?)([1-9]\d{0,2}(?:\.\d{3})+)(?:,(\d+))?$/;
const DECIMAL = /^([-−]?)(\d+)(?:[.,](\d+))?$/;

/** Reads an integer: 21 "hai mươi mốt", 105 "một trăm linh năm", 2026 "hai nghìn không trăm hai mươi sáu". */
export function readNumber(n: bigint | number | string): string {
  let value: bigint;
  if (typeof n === 'bigint') value = n;
  else if (typeof n === 'number') {
    if (!Number.isSafeInteger(n)) throw new RangeError(`readNumber: not a safe integer: ${n}`);
    value = BigInt(n);
  } else {
    const s = n.trim().replace('−', '-');
    const grouped = GROUPED.exec(s);
    const digits = grouped && !grouped[3] ? s.replaceAll('.', '') : s;
    if (!INTEGER.test(digits)) throw new RangeError(`readNumber: not an integer: ${JSON.stringify(n)}`);
    value = BigInt(digits);
  }
  return doReadNumber(value, NUMBER_CONFIG);
}

/** Reads "12,75" "mười hai phẩy bảy mươi lăm", "1.500" "một nghìn năm trăm", "3.5" "ba phẩy năm". */
export function readDecimal(text: string): string {
  const m = GROUPED.exec(text.trim()) ?? DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`readDecimal: not a number: ${JSON.stringify(text)}`);
  const [, sign, integer = '', fraction] = m;
  const words = [readNumber(integer.replaceAll('.', ''))];
  if (fraction) words.push('phẩy', readFraction(fraction));
  return sign ? `âm ${words.join(' ')}` : words.join(' ');
}

// Announcers read a short fraction as a number and say each leading zero: 3,05 "ba phẩy không năm";
// long fractions are read digit by digit.
function readFraction(digits: string): string {
  const rest = digits.replace(/^0+/, '');
  const words = Array<string>(digits.length - rest.length).fill('không');
  if (rest) words.push(rest.length <= 3 ? readNumber(rest) : spellDigits(rest));
  return words.join(' ');
}

const spellDigits = (digits: string): string => [...digits].map((d) => readNumber(d)).join(' ');
const inRange = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;
// "tháng tư", never "tháng bốn"; month 1 is "tháng một" (not the traditional "tháng giêng").
const readMonth = (month: number): string => (month === 4 ? 'tư' : readNumber(month));

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function isValidDate(day: number, month: number, year?: number): boolean {
  if (!inRange(month, 1, 12) || (year !== undefined && !inRange(year, 0, 9999))) return false;
  const leap = year === undefined || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  return inRange(day, 1, month === 2 && !leap ? 28 : (MONTH_DAYS[month - 1] ?? 0));
}

/** "ngày mùng năm tháng tư năm hai nghìn không trăm hai mươi sáu"; days 1–10 take "mùng" as in speech. */
export function readDate(day: number, month: number, year?: number): string {
  if (!isValidDate(day, month, year)) throw new RangeError(`readDate: no such date ${day}/${month}/${year ?? ''}`);
  const words = ['ngày', ...(day <= 10 ? ['mùng'] : []), readNumber(day), 'tháng', readMonth(month)];
  if (year !== undefined) words.push('năm', readNumber(year));
  return words.join(' ');
}

/** "sáu giờ ba mươi phút", "mười tám giờ", "sáu giờ ba mươi phút mười lăm giây". */
export function readTime(hours: number, minutes: number, seconds?: number): string {
  if (!inRange(hours, 0, 23) || !inRange(minutes, 0, 59) || (seconds !== undefined && !inRange(seconds, 0, 59))) {
    throw new RangeError(`readTime: no such time ${hours}:${minutes}:${seconds ?? ''}`);
  }
  return clock(hours, minutes, seconds);
}

// Whole hours are just "giờ" ("sáu giờ"); "không phút" only when seconds follow.
function clock(hours: number | string, minutes: number, seconds = 0): string {
  const words = [readNumber(hours), 'giờ'];
  if (minutes > 0 || seconds > 0) words.push(readNumber(minutes), 'phút');
  if (seconds > 0) words.push(readNumber(seconds), 'giây');
  return words.join(' ');
}

const UNITS: Record<string, string> = {
  'km/h': 'ki-lô-mét một giờ',
  'm/s': 'mét trên giây',
  mm: 'mi-li-mét',
  cm: 'xăng-ti-mét',
  km: 'ki-lô-mét',
  m: 'mét',
  m2: 'mét vuông',
  'm²': 'mét vuông',
  m3: 'mét khối',
  'm³': 'mét khối',
  kg: 'ki-lô-gam',
  ha: 'héc-ta',
  kV: 'ki-lô-vôn',
  '°C': 'độ C',
  ºC: 'độ C',
  '℃': 'độ C',
  '°': 'độ',
  đ: 'đồng',
  '%': 'phần trăm',
};
const NOT_IN_WORD = String.raw`(?![\p{L}\p{M}\p{N}])`;
// Longest first so "km/h" wins over "km" and "m"; a unit ending in a letter or digit must end the word ("5 mẫu").
const UNIT = Object.keys(UNITS)
  .sort((a, b) => b.length - a.length)
  .map((u) => u.replace(/[/.]/g, '\\$&') + (/[\p{L}\p{N}]$/u.test(u) ? NOT_IN_WORD : ''))
  .join('|');
const NUM = String.raw`[1-9]\d{0,2}(?:\.\d{3})+(?!\d)(?:,\d+)?|\d+(?:[.,]\d+)?`;

// One alternative per reading, tried in order at each position; every alternative ends where no digit follows.
const TOKEN = new RegExp(
  [
    String.raw`(?<phone>0\d{8,}|0\d{2,3}(?:[ .]\d{3,4}){2})(?!\d)`,
    String.raw`(?<date>(?<dd>\d{1,2})(?<sep>[/.\-])(?<dm>\d{1,2})\k<sep>(?<dy>\d{4}))(?!\d)`,
    String.raw`(?<hms>(?<ch>\d{1,2}):(?<cm>\d{2})(?::(?<cs>\d{2}))?)(?!\d)`,
    String.raw`(?<hhmm>(?<hh>\d+)[hH](?<hm>\d{2})?)${NOT_IN_WORD}`,
    String.raw`(?<gio>(?<gh>\d{1,2}) ?giờ (?<gm>\d{1,2})(?: phút)?)(?![\p{L}\p{M}\p{N}]|[.,]\d| ?(?:${UNIT}))`,
    String.raw`(?<dayMonth>(?<md>\d{1,2})\/(?<mm>\d{1,2}))(?![\d/]|[.,]\d)`,
    String.raw`(?<monthYear>(?<ym>\d{1,2})\/(?<yy>\d{4}))(?!\d)`,
    String.raw`(?<sign>(?<![^\s(])[-−])?(?<num>${NUM})(?:[ \u00a0]?(?<unit>${UNIT}))?`,
  ]
    .map((alternative) => String.raw`(?<!\d)(?:${alternative})`)
    .join('|'),
  'gu',
);
const RANGE_GAP = /^ *[-–] *$/;
const PRECEDING_WORD = /(?:^|[^\p{L}\p{M}])(ngày|mùng|tháng|thứ)\s+$/iu;
const isLetter = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{M}]/u.test(c);

/** Rewrites announcement text for TTS: digits become Vietnamese words, everything else is kept (NFC). */
export function readVietnameseText(text: string): string {
  const input = text.normalize('NFC');
  let out = '';
  let last = 0;
  let previousIsNumber = false;
  for (const m of input.matchAll(TOKEN)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const groups = m.groups ?? {};
    // "20-25", "150-200mm", "7h-9h": a dash between two readings is "đến" (phone numbers excepted).
    const isRange = previousIsNumber && !groups.phone && RANGE_GAP.test(input.slice(last, start));
    const word = PRECEDING_WORD.exec(input.slice(Math.max(0, start - 8), start))?.[1]?.toLowerCase();
    const spoken = speak(groups, m[0], word, input.slice(end, end + 8));
    const before = isRange ? ' đến ' : input.slice(last, start) + (isLetter(input[start - 1]) ? ' ' : '');
    out += before + spoken + (isLetter(input[end]) ? ' ' : '');
    last = end;
    previousIsNumber = !groups.phone;
  }
  return out + input.slice(last);
}

function speak(g: Record<string, string | undefined>, raw: string, word: string | undefined, after: string): string {
  if (g.phone) return g.phone.split(/[ .]/).map(spellDigits).join(', ');
  if (g.date) {
    const [day, month, year] = [Number(g.dd), Number(g.dm), Number(g.dy)];
    return isValidDate(day, month, year) ? afterWord(readDate(day, month, year), word) : spellNumbers(raw);
  }
  if (g.hms) {
    const [h, m, s] = [Number(g.ch), Number(g.cm), Number(g.cs ?? 0)];
    return inRange(h, 0, 23) && inRange(m, 0, 59) && inRange(s, 0, 59) ? clock(h, m, s) : spellNumbers(raw);
  }
  // "6h30", "18h" and "6 giờ 30" may also be durations ("trong 72h tới"), so any hour count is accepted.
  if (g.hhmm || g.gio) {
    const minutes = Number(g.hm ?? g.gm ?? 0);
    return inRange(minutes, 0, 59) ? clock(g.hh ?? g.gh ?? '', minutes) : spellNumbers(raw);
  }
  if (g.dayMonth) {
    const [day, month] = [Number(g.md), Number(g.mm)];
    return isValidDate(day, month) ? afterWord(readDate(day, month), word) : spellNumbers(raw);
  }
  if (g.monthYear) {
    const month = Number(g.ym);
    return inRange(month, 1, 12)
      ? afterWord(`tháng ${readMonth(month)} năm ${readNumber(g.yy ?? '')}`, word)
      : spellNumbers(raw);
  }
  const num = g.num ?? '';
  const value = !g.sign && !g.unit && /^\d+$/.test(num) ? readInContext(num, word, after) : readDecimal(num);
  return `${g.sign ? 'âm ' : ''}${value}${g.unit ? ` ${UNITS[g.unit] ?? g.unit}` : ''}`;
}

// Ordinals say "thứ nhất", "thứ tư" (not "thứ một", "thứ bốn"); "tháng 4" is "tháng tư";
// "ngày 5 tháng 4" is "ngày mùng năm tháng tư".
function readInContext(digits: string, word: string | undefined, after: string): string {
  const n = Number(digits);
  if (word === 'thứ' && (n === 1 || n === 4)) return n === 1 ? 'nhất' : 'tư';
  if (word === 'tháng' && inRange(n, 1, 12)) return readMonth(n);
  if (word === 'ngày' && inRange(n, 1, 10) && /^\s+tháng/iu.test(after)) return `mùng ${readNumber(n)}`;
  return readNumber(digits);
}

// "ngày 01/12" must not become "ngày ngày mùng một tháng mười hai".
function afterWord(reading: string, word: string | undefined): string {
  if (word === 'ngày') return reading.replace(/^ngày /, '');
  if (word === 'mùng') return reading.replace(/^ngày (?:mùng )?/, '');
  if (word === 'tháng') return reading.replace(/^tháng /, '');
  return reading;
}

// Something shaped like a date or time that is not one ("32/13/2026"): read its numbers, keep the separators.
function spellNumbers(raw: string): string {
  return raw.replace(/\d+/g, (digits, i: number) => {
    const next = raw[i + digits.length];
    return `${isLetter(raw[i - 1]) ? ' ' : ''}${readNumber(digits)}${isLetter(next) ? ' ' : ''}`;
  });
}
