/**
 * Building blocks for the demo data set: a seeded PRNG and makers for plausible personal data
 * (names, addresses, phone numbers, US SSNs, payment card numbers). Everything is fictional:
 * e-mail domains are the RFC 2606 reserved ones, card numbers come from the public test BINs
 * payment processors document, phone numbers from ranges reserved for fiction where a country
 * has one.
 */

/**
 * A small seeded PRNG (a 32-bit xorshift-multiply mixer over a Weyl sequence). Its only job
 * is to make the demo database identical on every run, so tests can rely on exact values;
 * it is not for anything security-related.
 */
export class DemoRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TypeError('pick() needs a non-empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight; `entries` is [value, weight] pairs. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let r = this.next() * total;
    for (const [v, w] of entries) {
      r -= w;
      if (r < 0) return v;
    }
    return (entries[entries.length - 1] as readonly [T, number])[0];
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

export const FIRST_NAMES = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
  'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen',
  'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Sandra', 'Mark', 'Margaret',
  'Steven', 'Ashley', 'Andrew', 'Emily', 'Joshua', 'Donna', 'Kevin', 'Michelle', 'Brian', 'Carol',
  'Sophie', 'Liam', 'Olivia', 'Noah', 'Emma', 'Lucas', 'Mia', 'Amelia', 'Oliver', 'Chloe',
  'Hannah', 'Lukas', 'Léa', 'Chloé', 'Mateo', 'Aisha', 'Priya', 'Wei', 'Yuki', 'Sofia',
  'Siobhan', 'Niamh', 'Ciarán', 'Aoife', 'Finn', 'Maximilian', 'Greta', 'Jan', 'Femke', 'Sanne',
] as const;

export const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  "O'Brien", "O'Connor", 'Murphy', 'Kelly', 'Byrne', 'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber',
  'Dubois', 'Lefèvre', 'Moreau', 'Laurent', 'de Vries', 'van Dijk', 'Bakker', 'Jansen', 'Patel', 'Singh',
  'Chen', 'Wang', 'Tanaka', 'Suzuki', 'Kowalski', 'Nowak', 'Rossi', 'Russo', 'Okafor', 'Mensah',
] as const;

interface CountryProfile {
  readonly code: string;
  readonly currency: string;
  readonly cities: readonly string[];
  readonly streets: readonly string[];
  readonly weight: number;
}

export const COUNTRIES: readonly CountryProfile[] = [
  {
    code: 'US', currency: 'USD', weight: 60,
    cities: ['New York', 'Chicago', 'Austin', 'Seattle', 'Denver', 'Boston', 'Atlanta', 'Portland', 'San Diego', 'Minneapolis'],
    streets: ['Maple Avenue', 'Oak Street', 'Pine Road', 'Cedar Lane', 'Elm Street', 'Washington Boulevard', 'Lakeview Drive', 'Park Place', 'Sunset Avenue', 'Highland Court'],
  },
  {
    code: 'CA', currency: 'CAD', weight: 6,
    cities: ['Toronto', 'Vancouver', 'Montreal', 'Calgary', 'Ottawa'],
    streets: ['King Street West', 'Rue Sainte-Catherine', 'Granville Street', 'Jasper Avenue', 'Bank Street'],
  },
  {
    code: 'GB', currency: 'GBP', weight: 12,
    cities: ['London', 'Manchester', 'Bristol', 'Edinburgh', 'Leeds', 'Cardiff'],
    streets: ['High Street', 'Church Road', 'Station Road', 'Victoria Road', 'Mill Lane', 'Queens Road'],
  },
  {
    code: 'IE', currency: 'EUR', weight: 4,
    cities: ['Dublin', 'Cork', 'Galway', 'Limerick'],
    streets: ['Main Street', 'Grafton Street', 'Patrick Street', 'Shop Street'],
  },
  {
    code: 'DE', currency: 'EUR', weight: 8,
    cities: ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main'],
    streets: ['Hauptstraße', 'Schillerstraße', 'Bahnhofstraße', 'Gartenweg', 'Lindenallee'],
  },
  {
    code: 'FR', currency: 'EUR', weight: 5,
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes'],
    streets: ['Rue de la République', 'Avenue Victor Hugo', 'Rue Pasteur', 'Boulevard Voltaire', 'Rue du Moulin'],
  },
  {
    code: 'NL', currency: 'EUR', weight: 5,
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Den Haag', 'Eindhoven'],
    streets: ['Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Prinsengracht', 'Stationsplein'],
  },
];

/** RFC 2606 domains: plausible-looking addresses that can never reach a real mailbox. */
export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'inbox.example.org'] as const;

/** Lower-case ASCII for e-mail local parts: "Léa O'Brien" → "lea.obrien". */
export function emailLocal(first: string, last: string, style: number, n: number): string {
  const clean = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  const f = clean(first);
  const l = clean(last);
  switch (style % 4) {
    case 0:
      return `${f}.${l}`;
    case 1:
      return `${f[0] ?? 'x'}${l}`;
    case 2:
      return `${f}${l}${n % 100}`;
    default:
      return `${f}_${l}`;
  }
}

/** Appends the Luhn check digit to `partial` (ISO/IEC 7812-1 annex B). */
export function withLuhnDigit(partial: string): string {
  let sum = 0;
  // Walking right to left, the digit next to the (future) check digit is doubled first.
  for (let i = partial.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = partial.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

/**
 * Issuer prefixes from the test-card lists of the major processors, so a demo PAN can never
 * charge a real account while still looking (and validating) like one.
 */
const TEST_BINS: readonly (readonly [prefix: string, length: number, weight: number])[] = [
  ['411111', 16, 30], // Visa
  ['424242', 16, 20], // Visa
  ['400005', 16, 8], // Visa debit
  ['555555', 16, 20], // Mastercard
  ['510510', 16, 10], // Mastercard
  ['222300', 16, 5], // Mastercard 2-series
  ['378282', 15, 4], // American Express
  ['371449', 15, 3], // American Express
  ['601111', 16, 5], // Discover
];

export function cardNumber(r: DemoRandom): string {
  const [prefix, length] = r.weighted(TEST_BINS.map((b) => [[b[0], b[1]] as const, b[2]] as const));
  return withLuhnDigit(prefix + r.digits(length - prefix.length - 1));
}

/** Groups a PAN the way people type it: 4-4-4-4, or 4-6-5 for 15-digit Amex. */
export function groupCard(pan: string, sep: string): string {
  const groups = pan.length === 15 ? [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)] : (pan.match(/.{1,4}/g) ?? [pan]);
  return groups.join(sep);
}

/**
 * A US SSN in a valid format per the SSA's rules: area 001-899 except 666, group 01-99,
 * serial 0001-9999 (https://www.ssa.gov/employer/randomization.html).
 */
export function ssn(r: DemoRandom): string {
  let area = r.int(1, 899);
  if (area === 666) area = 667;
  const group = r.int(1, 99);
  const serial = r.int(1, 9999);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

const US_AREA_CODES = ['212', '312', '512', '206', '303', '617', '404', '503', '619', '612', '415', '718'] as const;

/** A phone number in the country's usual notation, inside a fiction range where one exists. */
export function phone(r: DemoRandom, country: string): string {
  switch (country) {
    case 'US':
    case 'CA':
      // 555-0100..0199 is reserved for fictional use in the North American plan.
      return `+1 (${r.pick(US_AREA_CODES)}) 555-01${r.digits(2)}`;
    case 'GB':
      // Ofcom reserves 020 7946 0000-0999 for drama.
      return `+44 20 7946 0${r.digits(3)}`;
    case 'IE':
      return `+353 1 ${r.digits(3)} ${r.digits(4)}`;
    case 'DE':
      return `+49 30 ${r.digits(8)}`;
    case 'FR':
      return `+33 1 ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`;
    default:
      return `+31 20 ${r.digits(3)} ${r.digits(4)}`;
  }
}

export function streetAddress(r: DemoRandom, country: CountryProfile): string {
  const street = r.pick(country.streets);
  const n = r.int(1, 480);
  const unit = r.chance(0.2) ? `, Apt ${r.int(1, 40)}` : '';
  // Continental Europe writes the number after the street name.
  return country.code === 'DE' || country.code === 'NL' ? `${street} ${n}${unit}` : `${n} ${street}${unit}`;
}

/** Days since 1970-01-01 → 'YYYY-MM-DD'. */
export function isoDate(epochDay: number): string {
  return new Date(epochDay * 86_400_000).toISOString().slice(0, 10);
}

/** Seconds since the epoch → an ISO-8601 UTC timestamp PostgreSQL accepts for timestamptz. */
export function isoTimestamp(epochSecond: number): string {
  return new Date(epochSecond * 1000).toISOString().replace('.000Z', 'Z');
}
