import { foldLatest } from '../src/audience/model';

type C = Parameters<typeof foldLatest>[1];
const change = (segmentId: string, contactId: string, version: number, offset: number, member: boolean): C => ({ segmentId, contactId, version, offset, member });

describe('segment membership log: the latest change wins', () => {
  test.each<[string, C[], boolean]>([
    ['enter then exit', [change('s', 'c', 1, 1, true), change('s', 'c', 1, 2, false)], false],
    ['exit then enter', [change('s', 'c', 1, 1, false), change('s', 'c', 1, 2, true)], true],
    ['read back in reverse order', [change('s', 'c', 1, 2, true), change('s', 'c', 1, 1, false)], true],
    ['a newer rule version beats a later offset of an older one', [change('s', 'c', 2, 5, false), change('s', 'c', 1, 9, true)], false],
    ['a replayed change (same offset) changes nothing', [change('s', 'c', 1, 3, true), change('s', 'c', 1, 3, true)], true],
  ])('%s', (_, changes, member) => {
    const latest = new Map<string, C>();
    for (const c of changes) foldLatest(latest, c);
    expect([...latest.values()]).toHaveLength(1);
    expect(latest.get('s:c')!.member).toBe(member);
  });

  test('keeps one entry per segment and contact', () => {
    const latest = new Map<string, C>();
    for (const c of [change('s1', 'a', 1, 1, true), change('s2', 'a', 1, 2, false), change('s1', 'b', 1, 3, true)]) foldLatest(latest, c);
    expect([...latest.keys()].sort()).toEqual(['s1:a', 's1:b', 's2:a']);
  });
});
