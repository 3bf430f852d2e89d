import { createHash } from 'crypto';

const NAME_MIN = 2;
const NAME_MAX = 100;

/**
 * A valid CKAN package `name` (URL slug): 2–100 characters of `[a-z0-9_-]`.
 * Accents are folded ("Évian" → "evian"), everything else becomes a dash.
 */
export function toCkanName(text: string): string {
  let name = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name.length < NAME_MIN) name = `dataset-${name || shortHash(text)}`;
  return name.slice(0, NAME_MAX).replace(/-+$/, '');
}

/** The same slug with a suffix derived from `seed`, for when the plain one belongs to someone else. */
export function suffixedCkanName(name: string, seed: string): string {
  const suffix = `-${shortHash(seed)}`;
  return `${name.slice(0, NAME_MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/**
 * CKAN tag names: 2–100 characters of letters, digits, spaces, `-_.`.
 * Invalid characters become spaces; tags still too short are dropped.
 */
export function toCkanTags(keywords: readonly string[] | undefined): string[] {
  const tags = new Set<string>();
  for (const keyword of keywords ?? []) {
    const tag = keyword
      .replace(/[^\p{L}\p{N} _.-]+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, NAME_MAX)
      .trim();
    if (tag.length >= NAME_MIN) tags.add(tag);
  }
  return [...tags];
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}
