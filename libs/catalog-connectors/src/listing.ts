import { createHash } from 'crypto';
import type { CatalogAdapterOptions, HarvestCursor, HarvestFilters, HarvestedDataset } from './adapter';

/**
 * Bookkeeping of one listing: ids seen (offset paging over a changing remote
 * repeats items), page fingerprints (a remote that ignores the page parameter
 * would otherwise be paged forever) and the item/page limits.
 */
export class ListingGuard {
  private readonly seenIds = new Set<string>();
  private readonly seenPages = new Set<string>();
  private datasetCount = 0;
  private pageCount = 0;

  constructor(private readonly limits: Pick<CatalogAdapterOptions, 'maxItems' | 'maxPages'> = {}) {}

  /** True when a page with the same content was already seen in this listing. */
  isRepeatedPage(content: string | Buffer | readonly string[]): boolean {
    const fingerprint = createHash('sha256')
      .update(Array.isArray(content) ? content.join('\n') : (content as string | Buffer))
      .digest('hex');
    if (this.seenPages.has(fingerprint)) return true;
    this.seenPages.add(fingerprint);
    return false;
  }

  /** Splits datasets into first sightings and ids already returned by an earlier page (or earlier on this one). */
  sortOut(datasets: HarvestedDataset[]): { fresh: HarvestedDataset[]; repeated: HarvestedDataset[] } {
    const fresh: HarvestedDataset[] = [];
    const repeated: HarvestedDataset[] = [];
    for (const dataset of datasets) {
      if (this.seenIds.has(dataset.remoteId)) {
        repeated.push(dataset);
      } else {
        this.seenIds.add(dataset.remoteId);
        fresh.push(dataset);
      }
    }
    return { fresh, repeated };
  }

  /** Counts a page about to be yielded; trims it to the item limit. */
  admit(datasets: HarvestedDataset[]): { datasets: HarvestedDataset[]; limitReached?: string } {
    this.pageCount += 1;
    const room = this.limits.maxItems === undefined ? Infinity : this.limits.maxItems - this.datasetCount;
    const admitted = datasets.slice(0, Math.max(0, room));
    this.datasetCount += admitted.length;
    if (admitted.length < datasets.length || (this.limits.maxItems !== undefined && this.datasetCount >= this.limits.maxItems)) {
      return { datasets: admitted, limitReached: `stopped at the limit of ${this.limits.maxItems} datasets` };
    }
    if (this.limits.maxPages !== undefined && this.pageCount >= this.limits.maxPages) {
      return { datasets: admitted, limitReached: `stopped at the limit of ${this.limits.maxPages} pages` };
    }
    return { datasets: admitted };
  }

  get seen(): number {
    return this.seenIds.size;
  }
}

export type LocalFilter = keyof HarvestFilters | 'modifiedSince';

/**
 * Applies, on our side, the filters a remote API cannot apply. Tags are
 * ANDed, formats ORed, the query matched case-insensitively on title,
 * description and keywords; a dataset without a modification date passes the
 * incremental filter (better harvested twice than missed).
 */
export function matchesLocally(
  dataset: HarvestedDataset,
  filters: HarvestFilters,
  cursor: HarvestCursor,
  which: readonly LocalFilter[],
): boolean {
  const lower = (text: string | undefined) => (text ?? '').toLowerCase();
  if (which.includes('organization') && filters.organization) {
    const wanted = lower(filters.organization);
    if (lower(dataset.publisher?.name) !== wanted && lower(dataset.publisher?.id) !== wanted) return false;
  }
  if (which.includes('tags') && filters.tags?.length) {
    const keywords = new Set(dataset.keywords.map(lower));
    if (!filters.tags.every((tag) => keywords.has(lower(tag)))) return false;
  }
  if (which.includes('query') && filters.query) {
    const haystack = lower([dataset.title, dataset.description, ...dataset.keywords].join(' '));
    if (!lower(filters.query).split(/\s+/).filter(Boolean).every((word) => haystack.includes(word))) return false;
  }
  if (which.includes('resourceFormats') && filters.resourceFormats?.length) {
    const wanted = new Set(filters.resourceFormats.map((format) => lower(format)));
    if (!dataset.distributions.some((distribution) => wanted.has(lower(distribution.format)))) return false;
  }
  if (which.includes('modifiedSince') && cursor.modifiedSince && dataset.modified) {
    if (Date.parse(dataset.modified) < Date.parse(cursor.modifiedSince)) return false;
  }
  return true;
}
