import { recordPublicId } from '@odb/contracts';
import { idMap, idMapJson } from '../src/sessions/write-result';

const prepared = (vendorIds: string[]) =>
  vendorIds.map((vendorId) => ({ vendorId, publicId: recordPublicId('c0ffee', vendorId), name: null, document: null }));

describe('the answer to a batch: vendor id → public id as JSON text', () => {
  it('is exactly JSON.stringify of the object BitBroker answered, array-index keys first in numeric order', () => {
    const cases = [
      ['GB', 'FR', 'DE'],
      ['10', '2', 'b', '0', 'a', '1'],
      ['01', '-1', '1e3', '1.5', '4294967294', '4294967295', '42', ' 7'],
      ['quote"s', 'back\\slash', 'newline\n', 'unicode é 😀', '\u2028'],
      [],
    ];
    for (const vendorIds of cases) {
      const records = prepared(vendorIds);
      expect(idMapJson(records)).toBe(JSON.stringify(idMap(records)));
      expect(JSON.parse(idMapJson(records))).toEqual(idMap(records));
    }
  });
});
