/**
 * Update frequencies. The platform's own vocabulary is udata's (a superset of
 * the Dublin Core collection frequencies, whose terms keep the same names), so
 * publishing to udata needs no table and DC terms map one to one.
 */
export const FREQUENCIES = [
  'continuous',
  'oneMinute',
  'fiveMinutes',
  'tenMinutes',
  'fifteenMinutes',
  'thirtyMinutes',
  'hourly',
  'bihourly',
  'trihourly',
  'twelveHours',
  'severalTimesADay',
  'threeTimesADay',
  'semidaily',
  'daily',
  'fiveTimesAWeek',
  'threeTimesAWeek',
  'semiweekly',
  'weekly',
  'biweekly',
  'threeTimesAMonth',
  'semimonthly',
  'monthly',
  'bimonthly',
  'quarterly',
  'threeTimesAYear',
  'semiannual',
  'annual',
  'biennial',
  'triennial',
  'quadrennial',
  'quinquennial',
  'decennial',
  'bidecennial',
  'tridecennial',
  'punctual',
  'irregular',
  'never',
  'notPlanned',
  'other',
  'unknown',
] as const;

export type Frequency = (typeof FREQUENCIES)[number];

const DC_FREQ = 'http://purl.org/cld/freq/';
const EU_FREQ = 'http://publications.europa.eu/resource/authority/frequency/';

/** EU "frequency" authority table (DCAT-AP) code → platform frequency. */
const EU_CODES: Record<string, Frequency> = {
  '1MIN': 'oneMinute',
  '5MIN': 'fiveMinutes',
  '10MIN': 'tenMinutes',
  '15MIN': 'fifteenMinutes',
  '30MIN': 'thirtyMinutes',
  HOURLY: 'hourly',
  BIHOURLY: 'bihourly',
  TRIHOURLY: 'trihourly',
  '12HRS': 'twelveHours',
  CONT: 'continuous',
  UPDATE_CONT: 'continuous',
  DAILY: 'daily',
  DAILY_2: 'semidaily',
  WEEKLY: 'weekly',
  WEEKLY_2: 'semiweekly',
  WEEKLY_3: 'threeTimesAWeek',
  BIWEEKLY: 'biweekly',
  MONTHLY: 'monthly',
  MONTHLY_2: 'semimonthly',
  MONTHLY_3: 'threeTimesAMonth',
  BIMONTHLY: 'bimonthly',
  QUARTERLY: 'quarterly',
  ANNUAL: 'annual',
  ANNUAL_2: 'semiannual',
  ANNUAL_3: 'threeTimesAYear',
  BIENNIAL: 'biennial',
  TRIENNIAL: 'triennial',
  QUADRENNIAL: 'quadrennial',
  QUINQUENNIAL: 'quinquennial',
  DECENNIAL: 'decennial',
  BIDECENNIAL: 'bidecennial',
  TRIDECENNIAL: 'tridecennial',
  IRREG: 'irregular',
  AS_NEEDED: 'punctual',
  NOT_PLANNED: 'notPlanned',
  NEVER: 'never',
  OTHER: 'other',
  UNKNOWN: 'unknown',
  OP_DATPRO: 'unknown',
};

const EU_BY_FREQUENCY: Partial<Record<Frequency, string>> = Object.fromEntries(
  Object.entries(EU_CODES)
    .filter(([code]) => !['UPDATE_CONT', 'OP_DATPRO'].includes(code))
    .map(([code, frequency]) => [frequency, code]),
);

/** ISO 8601 repeating intervals as used by DCAT-US / Project Open Data `accrualPeriodicity`. */
const ISO_8601: Record<string, Frequency> = {
  'R/PT1S': 'continuous',
  'R/PT1M': 'oneMinute',
  'R/PT1H': 'hourly',
  'R/PT12H': 'twelveHours',
  'R/P1D': 'daily',
  'R/P0.33W': 'threeTimesAWeek',
  'R/P3.5D': 'semiweekly',
  'R/P1W': 'weekly',
  'R/P2W': 'biweekly',
  'R/P0.33M': 'threeTimesAMonth',
  'R/P0.5M': 'semimonthly',
  'R/P1M': 'monthly',
  'R/P2M': 'bimonthly',
  'R/P3M': 'quarterly',
  'R/P4M': 'threeTimesAYear',
  'R/P6M': 'semiannual',
  'R/P1Y': 'annual',
  'R/P2Y': 'biennial',
  'R/P3Y': 'triennial',
  'R/P4Y': 'quadrennial',
  'R/P5Y': 'quinquennial',
  'R/P10Y': 'decennial',
};

/** Words seen in the wild: udata legacy and newer ids, ISO 19115 maintenance codes, plain English. */
const ALIASES: Record<string, Frequency> = {
  realtime: 'continuous',
  continual: 'continuous',
  updatecont: 'continuous',
  '1min': 'oneMinute',
  '5min': 'fiveMinutes',
  '10min': 'tenMinutes',
  '15min': 'fifteenMinutes',
  '30min': 'thirtyMinutes',
  '12hrs': 'twelveHours',
  fourtimesaday: 'severalTimesADay',
  fourtimesaweek: 'threeTimesAWeek',
  fortnighly: 'biweekly',
  fortnightly: 'biweekly',
  biannual: 'semiannual',
  biannually: 'semiannual',
  annually: 'annual',
  yearly: 'annual',
  asneeded: 'punctual',
  irreg: 'irregular',
  completelyirregular: 'irregular',
  notplanned: 'notPlanned',
};

const BY_LOWER_NAME: Record<string, Frequency> = Object.fromEntries(
  FREQUENCIES.map((frequency) => [frequency.toLowerCase(), frequency]),
);

/**
 * Maps a frequency from any vocabulary seen in catalogs (DC purl.org/cld/freq
 * URIs, EU NAL URIs or codes, ISO 8601 `R/P1Y`, udata ids, ISO 19115 codes)
 * to the platform vocabulary; undefined when it is not recognised.
 */
export function toFrequency(value: string | undefined | null): Frequency | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (!text) return undefined;
  if (text.startsWith(DC_FREQ)) return BY_LOWER_NAME[text.slice(DC_FREQ.length).toLowerCase()] ?? ALIASES[text.slice(DC_FREQ.length).toLowerCase()];
  if (text.startsWith(EU_FREQ)) return EU_CODES[text.slice(EU_FREQ.length).toUpperCase()];
  if (/^R\//i.test(text)) return ISO_8601[text.toUpperCase()];
  if (EU_CODES[text] && /^[A-Z0-9_]+$/.test(text)) return EU_CODES[text];
  const key = text.toLowerCase().replace(/[\s_-]+/g, '');
  return BY_LOWER_NAME[key] ?? ALIASES[key];
}

/** udata's UpdateFrequency id: the platform vocabulary is udata's. */
export function toUdataFrequency(frequency: Frequency | undefined): string | undefined {
  return frequency;
}

/** EU NAL URI for DCAT-AP and for CKAN extras (what ckanext-dcat reads). */
export function toEuFrequencyUri(frequency: Frequency | undefined): string | undefined {
  const code = frequency && EU_BY_FREQUENCY[frequency];
  return code ? `${EU_FREQ}${code}` : undefined;
}
