import { Readable } from 'stream';
import { SourceRow, readRows } from './row-readers';

/** A body delivered in chunks of `size` bytes, as a slow socket would. */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

async function all(batches: AsyncIterable<SourceRow[]>): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const batch of batches) rows.push(...batch);
  return rows;
}

describe('row readers', () => {
  const csv = '\uFEFFcode;name;note\n1;Ålesund;"two\nlines"\n2;"Saint-Étienne; Loire";\n\n3;Zürich;last line, no newline';

  it.each([1, 7, 64 * 1024])('reads CSV in chunks of %i bytes the same: BOM dropped, delimiter sniffed, quotes, empty lines, no final newline', async (size) => {
    const rows = await all(readRows('csv', chunked(csv, size)));
    expect(rows).toEqual([
      { values: { code: '1', name: 'Ålesund', note: 'two\nlines' }, position: 1 },
      { values: { code: '2', name: 'Saint-Étienne; Loire', note: '' }, position: 2 },
      { values: { code: '3', name: 'Zürich', note: 'last line, no newline' }, position: 3 },
    ]);
  });

  it('yields the rows of a large CSV in batches, in order, without losing one at chunk borders', async () => {
    const lines = ['id,value', ...Array.from({ length: 20_000 }, (_, i) => `${i},${'x'.repeat(i % 50)}`)];
    const batches: SourceRow[][] = [];
    for await (const batch of readRows('csv', chunked(lines.join('\r\n'), 1000))) batches.push(batch);
    const rows = batches.flat();
    expect(batches.length).toBeGreaterThan(1);
    expect(rows).toHaveLength(20_000);
    expect(rows.every((row, i) => row.position === i + 1 && row.values.id === String(i) && row.values.value === 'x'.repeat(i % 50))).toBe(true);
  });

  it('fails the read when the body fails half-way (a truncated download is not a short file)', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('a,b\n1,2\n3,'));
    setImmediate(() => body.destroy(new Error('socket hang up')));
    await expect(all(readRows('csv', body))).rejects.toThrow('socket hang up');
  });

  it('reads GeoJSON features across chunk borders: properties, geometry and feature id', async () => {
    const features = Array.from({ length: 300 }, (_, i) => ({ type: 'Feature', id: `f${i}`, properties: { n: i }, geometry: { type: 'Point', coordinates: [i, i] } }));
    const rows = await all(readRows('geojson', chunked(JSON.stringify({ type: 'FeatureCollection', features }), 333)));
    expect(rows).toHaveLength(300);
    expect(rows[299]).toEqual({ values: { n: 299, geometry: { type: 'Point', coordinates: [299, 299] } }, featureId: 'f299', position: 300 });
  });
});
